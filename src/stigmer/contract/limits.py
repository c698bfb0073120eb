"""Limits every part enforces the same way, and how a size refusal is worded.

A size limit is a refusal, never a reason to retry: whatever is over one ends the call at
once with a `too-large` problem (`stigmer.contract.problems.TOO_LARGE`) naming the size
and the limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import TypeVar

T = TypeVar("T")

MAX_DEADLINE = timedelta(days=7)
"""The longest an execution may run; a caller without a timeout allows this much."""
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
"""The largest API request or answer, either way: results larger than the size budget are
stored apart, and one larger than this cannot be stored at all."""
MAX_RESULT_BYTES = MAX_MESSAGE_BYTES - 1024 * 1024
"""The largest result an execution may end with: it travels to the API in one message,
with the rest of its ending."""
MAX_STATUS_BYTES = MAX_MESSAGE_BYTES // 2
"""The largest status an execution may have (its messages, todos and task progress): every
Get and Watch answer carries it whole."""
REPORT_BYTES = MAX_MESSAGE_BYTES // 4
"""Progress is sent in reports of at most this much (one item alone may be more)."""
TEMPORAL_PAYLOAD_BYTES = 2 * 1024 * 1024
"""Temporal's default limit on one payload (its `limit.blobSize.error`): a workflow's
input or result, an activity's input or result. Past it the SDK or the server refuses it."""
MIB = 1024 * 1024


class OverLimit(ValueError):
    """Something is over a size limit; the message names its size and the limit."""

    def __init__(self, what: str, size: int, limit: int, of: str) -> None:
        self.what, self.size, self.limit = what, size, limit
        super().__init__(over_limit(what, size, limit, of))


def over_limit(what: str, size: int | None, limit: int, of: str) -> str:
    """One wording for every size refusal: what, how large (when known), which limit."""
    how_large = f"is {_amount(size)}, over" if size is not None else "is over"
    return f"{what} {how_large} {of} of {_amount(limit)}"


def check_size(what: str, size: int, limit: int, of: str) -> None:
    """Raise `OverLimit` when `size` is over `limit`."""
    if size > limit:
        raise OverLimit(what, size, limit, of)


def in_chunks(items: Sequence[T], size_of: Callable[[T], int], budget: int) -> Iterator[list[T]]:
    """`items` in order, in runs of at most `budget` bytes; an item over it goes alone."""
    chunk: list[T] = []
    used = 0
    for item in items:
        size = size_of(item)
        if chunk and used + size > budget:
            yield chunk
            chunk, used = [], 0
        chunk.append(item)
        used += size
    if chunk:
        yield chunk


def _amount(size: int) -> str:
    return f"{size / MIB:.1f} MiB ({size:,} bytes)"
