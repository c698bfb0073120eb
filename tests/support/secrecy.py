"""How a secret could show up written out, to look for each form."""

from __future__ import annotations

import base64


def encodings(token: bytes) -> list[str]:
    """Every way a token could be written out, and each 16-byte window of it in hex."""
    forms = [
        token.hex(),
        base64.b64encode(token).decode(),
        base64.urlsafe_b64encode(token).decode(),
        repr(token),
    ]
    forms += [token[i : i + 16].hex() for i in range(0, max(len(token) - 16, 1), 8)]
    forms += [base64.b64encode(token[i : i + 24]).decode() for i in range(0, len(token), 24)]
    return [form for form in forms if len(form) >= 16]
