"""The keyring that seals payloads: its first key seals, every key in it opens.

A keyring is text, one key a line: an id and 32 random bytes in URL-safe base64
(`k20261207-3fa9c1d2 2q1...`); `#` starts a comment. Rotating puts a new key first and keeps
the old ones for as long as any history may hold payloads sealed with them.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

from stigmer.errors import PlatformError

KEY_BYTES = 32
"""AES-256."""
_KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class KeyringError(PlatformError):
    """Payload keys that cannot be read or used."""


@dataclass(frozen=True)
class Keyring:
    current: str
    """The id of the key that seals."""
    keys: Mapping[str, bytes]
    """Every key that opens, by id (the current one among them)."""

    @classmethod
    def parse(cls, text: str, where: str) -> Keyring:
        """The keyring `text` holds (entries on lines or separated by commas); `where`
        names its source in errors."""
        ids: list[str] = []
        keys: dict[str, bytes] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            for entry in line.split("#", 1)[0].split(","):
                fields = entry.split()
                if not fields:
                    continue
                at = f"{where}, line {number}"
                if len(fields) != 2:
                    raise KeyringError(f"{at}: expected 'ID KEY', got {len(fields)} fields")
                key_id, encoded = fields
                if not _KEY_ID.match(key_id):
                    raise KeyringError(
                        f"{at}: {key_id!r} is not a key id (letters, digits, '.', '_', '-')"
                    )
                if key_id in keys:
                    raise KeyringError(f"{at}: key id {key_id!r} appears twice")
                keys[key_id] = _decoded(encoded, at)
                ids.append(key_id)
        if not ids:
            raise KeyringError(f"{where} holds no key")
        return cls(ids[0], keys)

    @classmethod
    def fresh(cls) -> Keyring:
        key_id, key = new_key()
        return cls(key_id, {key_id: key})

    def rotated(self) -> Keyring:
        """This keyring with a new key first: it seals from now on, the others still open."""
        key_id, key = new_key()
        return Keyring(key_id, {key_id: key, **self.keys})

    def render(self) -> str:
        lines = ["# Stigmer payload keys: the first seals, every one opens. Keep it secret."]
        order = [self.current, *(k for k in self.keys if k != self.current)]
        lines += [
            f"{key_id} {base64.urlsafe_b64encode(self.keys[key_id]).decode()}" for key_id in order
        ]
        return "\n".join(lines) + "\n"


def new_key() -> tuple[str, bytes]:
    """A random key and an id that tells when it was made."""
    return f"k{time.strftime('%Y%m%d', time.gmtime())}-{secrets.token_hex(4)}", secrets.token_bytes(
        KEY_BYTES
    )


def _decoded(encoded: str, where: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        raise KeyringError(f"{where}: the key is not URL-safe base64") from None
    if len(key) != KEY_BYTES:
        raise KeyringError(f"{where}: a key is {KEY_BYTES} bytes, this one is {len(key)}")
    return key
