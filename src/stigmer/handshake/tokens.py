"""Task tokens are credentials: only a short, stable preview of one is ever shown."""

from __future__ import annotations

import base64
import hashlib

PREVIEW_LENGTH = 12


def token_preview(token: bytes) -> str:
    """A fingerprint (not a prefix) of the token, enough to correlate log lines.

    A prefix of a Temporal task token is mostly the namespace and workflow id, the same
    for many tokens; a hash tells tokens apart and reveals nothing of them.
    """
    digest = hashlib.sha256(token).digest()
    return "tok_" + base64.urlsafe_b64encode(digest).decode()[:PREVIEW_LENGTH]
