"""What a failed call to the API means: the errors a client raises, which of them a retry
can change, and making a call until it succeeds or is refused.

A size over a limit is a refusal (`TooLarge`), never a reason to retry: it stays over.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc

from stigmer.contract.limits import over_limit

T = TypeVar("T")


class ApiUnreachable(ConnectionError):
    """The API did not answer at all."""


REFUSALS = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
)
"""Answers the API gives that a retry cannot change (a size over a limit among them: it
stays over); any other failure may pass."""
RETRY_FIRST, RETRY_CAP = 0.5, 10.0


def passing(exc: Exception) -> bool:
    """Whether a failed call may succeed made again: the API down, slow, busy, restarting."""
    return isinstance(exc, ApiUnreachable) or (
        isinstance(exc, ApiError) and exc.code not in REFUSALS
    )


async def persistently(call: Callable[[], Awaitable[T]]) -> T:
    """Make `call` until it succeeds or is refused, retrying failures that may pass with
    capped backoff (0.5 s doubling to 10 s). Whoever awaits it bounds it: an activity's
    timeout, a caller's deadline."""
    delay = RETRY_FIRST
    while True:
        try:
            return await call()
        except (ApiError, ApiUnreachable) as exc:
            if not passing(exc):
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, RETRY_CAP)


class ApiError(RuntimeError):
    """The API answered with an error; `code` is the gRPC status code."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        self.code = code
        super().__init__(message)


class TooLarge(ApiError):
    """A request or answer over a size limit (RESOURCE_EXHAUSTED): refused, never retried.
    The message names the size and the limit when gRPC or the API said them."""

    def __init__(self, message: str) -> None:
        super().__init__(grpc.StatusCode.RESOURCE_EXHAUSTED, message)


MESSAGE_LIMIT = "the API's message limit"
_GRPC_SIZES = re.compile(r"(?P<size>\d+) vs\. (?P<limit>\d+)")
"""How gRPC says what it refused: "Received message larger than max (N vs. M)"."""


# What gRPC itself says when no connection could be made. Matched at the start only: the
# API's own UNAVAILABLE answers (Temporal unreachable) may quote a refused connection too.
_NO_CONNECTION = ("failed to connect", "dns resolution failed")


def translated(exc: grpc.aio.AioRpcError, address: str) -> Exception:
    details = exc.details() or ""
    if exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
        sizes = _GRPC_SIZES.search(details)
        if sizes is None:
            return TooLarge(details)
        size, limit = int(sizes["size"]), int(sizes["limit"])
        return TooLarge(over_limit(f"a message to or from {address}", size, limit, MESSAGE_LIMIT))
    if exc.code() == grpc.StatusCode.UNAVAILABLE and details.lower().startswith(_NO_CONNECTION):
        return ApiUnreachable(
            f"cannot reach the Stigmer API at {address}; start it with `stigmer server`"
        )
    return ApiError(exc.code(), details)
