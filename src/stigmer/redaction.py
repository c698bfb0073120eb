"""Secret values replaced by `***` in everything the platform records or logs.

One mechanism for every place that resolves secrets (the agents' runner, the engine's
calls): whoever resolves a secret adds its value to a `Redactor`, and whatever leaves that
place (a result, an error, progress, a log line) goes through the redactor first.

A value is redacted as it is and in the forms a request writes it in, because a URL or a
body shows it encoded rather than raw: percent-encoded (a path segment, a query, a form,
or a URL httpx normalized) and JSON-escaped (an error quoting a JSON body). A value
shorter than `MIN_LENGTH` is not redacted: it would blank out ordinary words, and a
secret that short protects nothing.

While a redactor is `active` (a context variable, so it follows the asyncio task and
what it starts), the log pipeline redacts every line with it too, including lines that
libraries write about the request (see `stigmer.observability.logs`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

REDACTED = "***"
MIN_LENGTH = 4
URL_KEPT = "!$&'()*+,;=:@/?%~"
"""What a URL keeps unencoded when a value is written into it as it is."""


@dataclass
class Redactor:
    """Replaces every known secret value in text, bytes and JSON-like data."""

    values: list[str] = field(default_factory=list)

    def add(self, value: str) -> None:
        """Redact `value` from now on, in each of the forms a request may write it."""
        forms = {
            value,
            quote(value, safe=""),
            quote_plus(value, safe=""),
            quote(value, safe=URL_KEPT),
            json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=False)[1:-1],
        }
        fresh = [f for f in forms if len(f) >= MIN_LENGTH and f not in self.values]
        if fresh:
            # Longest first, so a secret containing another is replaced whole.
            self.values = sorted([*self.values, *fresh], key=len, reverse=True)

    def add_all(self, value: Any) -> None:
        """Redact every string and number in JSON-like data (a secret may be an object)."""
        if isinstance(value, str):
            self.add(value)
        elif isinstance(value, bool) or value is None:
            return
        elif isinstance(value, int | float):
            self.add(str(value))
        elif isinstance(value, Mapping):
            for item in value.values():
                self.add_all(item)
        elif isinstance(value, list | tuple):
            for item in value:
                self.add_all(item)

    def text(self, value: str) -> str:
        for secret in self.values:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value

    def binary(self, value: bytes) -> bytes:
        """Raw bytes (a body before it is base64-encoded) with the UTF-8 forms replaced."""
        for secret in self.values:
            encoded = secret.encode()
            if encoded in value:
                value = value.replace(encoded, REDACTED.encode())
        return value

    def data(self, value: Any) -> Any:
        """A copy of JSON-like data with secrets replaced in every string, keys included
        (the data itself when there is nothing to replace, as for most calls)."""
        if not self.values:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(item) for item in value]
        return value


_active: ContextVar[Redactor | None] = ContextVar("stigmer_redactor", default=None)


@contextmanager
def active(redactor: Redactor) -> Iterator[Redactor]:
    """Make `redactor` the one log lines written in this context are redacted with."""
    token = _active.set(redactor)
    try:
        yield redactor
    finally:
        _active.reset(token)


def current() -> Redactor | None:
    """The redactor of the running call, if any."""
    return _active.get()
