"""Page sizes and opaque page tokens for List calls."""

from __future__ import annotations

import base64
import binascii

from stigmer.server.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument("page_size", "must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def page_token(cursor: str) -> str:
    return base64.urlsafe_b64encode(cursor.encode()).decode()


def cursor_of(token: str) -> str:
    """The cursor a page token carries; a token not made here is a client error."""
    if not token:
        return ""
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidArgument("page_token", "is not a token this server issued") from exc
