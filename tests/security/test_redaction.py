"""The one redactor: every form a request writes a secret in, the encodings of any text
that holds one, bytes, and data."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable

import pytest

from stigmer.redaction import REDACTED, Redactor, active, current
from tests.support.leaks import forms

SECRET = "sk-Live/Secret+42 =&é"


def test_a_secret_is_redacted_raw_and_in_every_encoded_form() -> None:
    redactor = Redactor()
    redactor.add(SECRET)
    written = [
        SECRET,
        "sk-Live%2FSecret%2B42%20%3D%26%C3%A9",  # a path segment of a URI template
        "sk-Live%2FSecret%2B42+%3D%26%C3%A9",  # a query or a form
        "sk-Live/Secret+42%20=&%C3%A9",  # a URL written with the value as it is
        json.dumps(SECRET)[1:-1],  # quoted in JSON, ASCII only
        json.dumps(SECRET, ensure_ascii=False)[1:-1],
        json.dumps(SECRET).replace("/", "\\/")[1:-1],  # JSON that escapes slashes
        html.escape(SECRET),  # a page quoting it
        "sk-Live/Secret%2b42 &#61;&amp;%c3%a9",  # escaped here and there, in any case
        "".join(f"%{byte:02X}" for byte in SECRET.encode()),  # every character, letters too
        "\\u0073\\u006b-Live/Secret+42 =&\\u00e9",  # JSON escaping letters too
    ]
    for form in written:
        assert redactor.text(f"<{form}>") == f"<{REDACTED}>", form


def test_bytes_data_and_nested_secrets() -> None:
    redactor = Redactor()
    redactor.add_all({"user": "admin-1", "password": "pw-0042", "port": 5432, "tls": True})
    assert redactor.binary(b"admin-1:pw-0042@db:5432") == b"***:***@db:***"
    assert redactor.data({"admin-1": ["pw-0042", 7, None], "n": 5432}) == {
        "***": ["***", 7, None],
        "n": 5432,
    }
    assert redactor.text("tls True") == "tls True"


def test_the_longest_secret_wins_and_short_values_are_left() -> None:
    redactor = Redactor()
    redactor.add("abcd")
    redactor.add("xabcdx")
    redactor.add("no")
    assert redactor.text("xabcdx abcd no") == "*** *** no"


def test_the_active_redactor_is_the_calls_own() -> None:
    assert current() is None
    redactor = Redactor()
    with active(redactor):
        assert current() is redactor
    assert current() is None


ENCODERS: list[Callable[[bytes], bytes]] = [
    base64.b64encode,
    base64.urlsafe_b64encode,
    base64.b32encode,
    lambda raw: raw.hex().encode(),
    lambda raw: raw.hex().upper().encode(),
]


@pytest.mark.parametrize("encode", ENCODERS, ids=["base64", "url-safe", "base32", "hex", "HEX"])
def test_a_secret_inside_encoded_text_is_redacted_wherever_it_starts(
    encode: Callable[[bytes], bytes],
) -> None:
    """A Basic header of `user:secret` (httpx makes one from a URL's user part), or any
    text holding the secret, encoded: every offset within the encoding's blocks."""
    redactor = Redactor()
    redactor.add(SECRET)
    for before in ("", "u", "u:", "bob:", "alice:"):
        for after in ("", "!", "@x", "-tail"):
            encoded = encode(f"{before}{SECRET}{after}".encode()).decode()
            shown = redactor.text(f"Authorization: Basic {encoded}")
            assert REDACTED in shown, (before, after)
            assert not [f for f in forms(SECRET) if f.decode() in shown], (before, after)
            # What is left decodes to no byte of the secret: only the text around it.
            kept = shown.removeprefix("Authorization: Basic ").split(REDACTED)
            assert len(kept) == 2 and len(kept[0]) <= len(encode(before.encode()))


def test_the_basic_header_of_a_user_and_a_secret_keeps_only_the_users_characters() -> None:
    redactor = Redactor()
    redactor.add("s3cret-password")
    header = "Basic " + base64.b64encode(b"u:s3cret-password").decode()
    assert redactor.text(header) == "Basic dT***="  # "dT" is "u", the "=" padding
    assert redactor.data({"authorization": header}) == {"authorization": "Basic dT***="}


def test_an_encoded_secret_needs_eight_characters_of_its_own() -> None:
    """Base64 of a short secret would be a few characters that any blob may hold."""
    redactor = Redactor()
    redactor.add("pw-7")
    assert redactor.text(base64.b64encode(b"pw-7").decode()) == "cHctNw=="
    assert redactor.text("pw-7") == REDACTED


def test_bytes_that_are_not_text_are_kept() -> None:
    redactor = Redactor()
    redactor.add(SECRET)
    assert redactor.binary(b"\xff\x00" + SECRET.encode() + b"\xfe") == b"\xff\x00***\xfe"
