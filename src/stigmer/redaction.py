"""Secret values replaced by `***` in everything the platform records or logs.

One mechanism for every place that resolves secrets (the agents' runner, the engine's
calls): whoever resolves a secret adds its value to a `Redactor`, and whatever leaves that
place (a result, an error, progress, a log line) goes through the redactor first.

A value is recognized wherever it travels, in the forms text made from it takes:

- written as it is, or with any of its characters escaped the way a URL (percent-encoded,
  `+` for a space), JSON (`\\"`, `\\u00e9`, `\\/`) or HTML (`&amp;`, `&#38;`) writes
  them, mixed in any way: a path, a query, a form, a URL httpx normalized, a JSON body,
  a page quoting it;
- inside base64 (standard or URL-safe), base32 or hex of any text that contains it: the
  Basic header of `user:secret`, the one httpx makes from a URL's user part, `"u:" +
  $secrets.pw | @base64`. Such an encoding writes blocks of bytes (3 for base64); where the
  secret starts within a block changes its encoding, so it is looked for once per
  starting offset, by the characters that its own bytes alone make. The characters at
  either end that mix its bytes with its neighbours' are masked with them.

A value shorter than `MIN_LENGTH` is not redacted: it would blank out ordinary words, and
a secret that short protects nothing. A secret is looked for in an encoding only where its
own bytes make at least `MIN_ENCODED` characters of it (so base64 from 8 bytes on), for
the same reason.

While a redactor is `active` (a context variable, so it follows the asyncio task and
what it starts), the log pipeline redacts every line with it too, including lines that
libraries write about the request (see `stigmer.observability.logs`).
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

REDACTED = "***"
MIN_LENGTH = 4
MIN_ENCODED = 8
_JSON_SHORT = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f"}
_JSON_SHORT |= {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_HTML_NAMED = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}
ESCAPES = ("%", "&#", "\\")
"""What starts every escaped form of a letter or a digit (URL, HTML, JSON)."""


@dataclass(frozen=True)
class _Blocks:
    """An encoding that writes every `size` bytes as `width` characters of `alphabet`."""

    size: int
    width: int
    encode: Callable[[bytes], str]
    alphabet: str

    @property
    def bits(self) -> int:
        return self.size * 8 // self.width

    def cores(self, raw: bytes) -> Iterator[_Core]:
        """For each offset a secret may start at within a block: the characters its own
        whole blocks make, and how many characters before and after mix in its bytes."""
        for head in range(self.size):  # the secret's bytes that end the block before
            body = len(raw) - head
            tail = body % self.size
            core = self.encode(raw[head : head + body - tail])
            if len(core) < MIN_ENCODED:
                continue
            before = self.width - (self.size - head) * 8 // self.bits if head else 0
            after = math.ceil(tail * 8 / self.bits)
            yield _Core(core, before, after, self.alphabet)


@dataclass(frozen=True)
class _Core:
    text: str
    before: int
    after: int
    alphabet: str

    def spans(self, value: str) -> Iterator[tuple[int, int]]:
        start = value.find(self.text)
        while start >= 0:
            begin, end = start, start + len(self.text)
            while begin > max(0, start - self.before) and value[begin - 1] in self.alphabet:
                begin -= 1
            stop = min(len(value), end + self.after)
            while end < stop and value[end] in self.alphabet:
                end += 1
            yield begin, end
            start = value.find(self.text, start + 1)


_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
ENCODINGS = (
    _Blocks(3, 4, lambda raw: base64.b64encode(raw).decode(), _DIGITS + "+/"),
    _Blocks(3, 4, lambda raw: base64.urlsafe_b64encode(raw).decode(), _DIGITS + "-_"),
    _Blocks(5, 8, lambda raw: base64.b32encode(raw).decode(), _DIGITS[:26] + "234567"),
    _Blocks(1, 2, lambda raw: raw.hex(), "0123456789abcdef"),
    _Blocks(1, 2, lambda raw: raw.hex().upper(), "0123456789ABCDEF"),
)
"""The encodings a secret is looked for in, inside text that contains it."""


@dataclass(frozen=True)
class _Written:
    """A secret as written or escaped. `anchor`, its longest run of letters and digits, is
    in any text that holds it without escaping one of them: a quick test that spares most
    texts the pattern."""

    pattern: re.Pattern[str]
    anchor: str

    @classmethod
    def of(cls, secret: str) -> _Written:
        runs = re.findall("[A-Za-z0-9]+", secret)
        pattern = re.compile("".join(_written(char) for char in secret))
        return cls(pattern, max(runs, key=len, default=""))


def _written(char: str) -> str:
    """A pattern for `char` as written, or as a URL, JSON or HTML escapes it."""
    code = ord(char)
    forms = {
        re.escape(char),
        "".join(f"%(?i:{byte:02x})" for byte in char.encode(errors="surrogateescape")),
        f"&#0*{code};",
        f"&#(?i:x0*{code:x});",
    }
    if char == " ":
        forms.add(r"\+")
    if char in _JSON_SHORT:
        forms.add(re.escape(_JSON_SHORT[char]))
    if char in _HTML_NAMED:
        forms.add(_HTML_NAMED[char])
    units = char.encode("utf-16-be", errors="surrogatepass")
    forms.add("".join(f"\\\\(?i:u{units[i : i + 2].hex()})" for i in range(0, len(units), 2)))
    return "(?:" + "|".join(sorted(forms)) + ")"


@dataclass
class Redactor:
    """Replaces every known secret value in text, bytes and JSON-like data."""

    values: list[str] = field(default_factory=list)
    """The secrets, longest first, so a secret containing another is replaced whole."""
    _written: list[_Written] = field(default_factory=list, init=False, repr=False)
    _cores: list[_Core] = field(default_factory=list, init=False, repr=False)

    def add(self, value: str) -> None:
        """Redact `value` from now on, in each of the forms text made from it takes."""
        if len(value) < MIN_LENGTH or value in self.values:
            return
        self.values = sorted([*self.values, value], key=len, reverse=True)
        self._written.insert(self.values.index(value), _Written.of(value))
        raw = value.encode(errors="surrogateescape")
        known = {core.text for core in self._cores}
        for encoding in ENCODINGS:
            for core in encoding.cores(raw):
                if core.text not in known:
                    known.add(core.text)
                    self._cores.append(core)
        self._cores.sort(key=lambda core: len(core.text), reverse=True)

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
        if not self._written:
            return value
        found = [core for core in self._cores if core.text in value]
        if found:
            value = _masked(value, sorted(span for core in found for span in core.spans(value)))
        escaped = any(mark in value for mark in ESCAPES)
        for written in self._written:  # the longest secret first
            if escaped or written.anchor in value:
                value = written.pattern.sub(REDACTED, value)
        return value

    def binary(self, value: bytes) -> bytes:
        """Raw bytes (a body before it is base64-encoded) with the secrets replaced; bytes
        that are not UTF-8 are kept as they are."""
        if not self._written:
            return value
        return self.text(value.decode(errors="surrogateescape")).encode(errors="surrogateescape")

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


def _masked(value: str, spans: list[tuple[int, int]]) -> str:
    """`value` with each of the sorted `spans` (overlapping ones merged) replaced."""
    out: list[str] = []
    position = 0
    for begin, end in spans:
        if end <= position:
            continue
        if begin >= position:
            out += [value[position:begin], REDACTED]
        position = end
    out.append(value[position:])
    return "".join(out)


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
