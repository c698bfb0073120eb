"""Looking for a secret everywhere it could have been written, in every form it could take.

A secret a call used may show up raw, percent-encoded (a path, a query, a form, a URL
httpx normalized), JSON- or HTML-escaped, or in base64 (a raw body, a Temporal payload,
a Basic header of `user:secret`, wherever the secret starts in the encoded text); a
Temporal history carries payloads as bytes, so it is searched as bytes too, and as JSON
with every base64 payload decoded and every sealed payload opened with the platform's keys.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, quote_plus

from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory

from stigmer.sealing.codec import SealingCodec

URL_KEPT = "!$&'()*+,;=:@/?%~"
"""What a URL keeps unencoded when a value is written into it as it is."""


def forms(secret: str | bytes) -> list[bytes]:
    """The ways `secret` could be written out (16 bytes or longer for a binary one)."""
    raw = secret if isinstance(secret, bytes) else secret.encode()
    found = {raw, raw.hex().encode()}
    for shift in range(3):
        found |= _inside(base64.b64encode, raw, shift) | _inside(
            base64.urlsafe_b64encode, raw, shift
        )
    if isinstance(secret, str):
        found |= {
            quote(secret, safe="").encode(),
            quote_plus(secret, safe="").encode(),
            quote(secret, safe=URL_KEPT).encode(),
            json.dumps(secret)[1:-1].encode(),
            html.escape(secret).encode(),
        }
    else:
        found.add(repr(secret).encode())
    return sorted(found)


def _inside(encode: Callable[[bytes], bytes], raw: bytes, shift: int) -> set[bytes]:
    """What base64 of any text holding `raw` `shift` bytes into a 3-byte block shows,
    whatever else the text holds (the blocks only its bytes fill), if 8 characters or more."""
    encoded = encode(bytes(shift) + raw)
    core = encoded[4 if shift else 0 : -4]
    return {core} if len(core) >= 8 else set()


def leaked(secret: str | bytes, records: dict[str, bytes | str]) -> list[str]:
    """The names of the records that hold `secret` in any of its forms."""
    wanted = forms(secret)
    return [
        name
        for name, record in records.items()
        if any(
            form in (record if isinstance(record, bytes) else record.encode()) for form in wanted
        )
    ]


def history_bytes(history: WorkflowHistory) -> bytes:
    """A whole history as its events' wire bytes: payloads as they are stored."""
    return b"\n".join(event.SerializeToString() for event in history.events)


def with_payloads_decoded(history_json: str, codec: SealingCodec) -> bytes:
    """A history as JSON (`temporal workflow show --output json`), then every string in it
    that is base64 (a payload's `data`), decoded, and every sealed payload opened with
    `codec`: what an operator with the platform's keys sees."""
    found = json.loads(history_json)
    decoded = [history_json.encode()]
    decoded += [_unbase64(text) for text in _strings(found)]
    decoded += [_opened(payload, codec) for payload in _payloads(found)]
    return b"\n".join(decoded)


def _payloads(value: Any) -> Iterable[dict[str, Any]]:
    if isinstance(value, dict):
        if isinstance(value.get("metadata"), dict) and "data" in value:
            yield value
        for item in value.values():
            yield from _payloads(item)
    elif isinstance(value, list):
        for item in value:
            yield from _payloads(item)


def _opened(payload: dict[str, Any], codec: SealingCodec) -> bytes:
    sealed = Payload(
        metadata={k: _unbase64(v) for k, v in payload["metadata"].items()},
        data=_unbase64(payload["data"]),
    )
    opened = codec.opened(sealed)
    return opened.data if opened is not None else b""


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _unbase64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return b""
