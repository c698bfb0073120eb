"""Turning what went wrong into the right gRPC status, naming the field at fault."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
import structlog
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from temporalio.service import RPCError

from stigmer.contract.limits import OverLimit
from stigmer.resources.executions import TransitionError
from stigmer.resources.idempotency import KeyTaken
from stigmer.store.database import Conflict, NotFound
from stigmer.temporal import TemporalUnreachableError

log = structlog.get_logger("stigmer.server")

T = TypeVar("T")


def required_id(execution_id: str) -> str:
    if not execution_id:
        raise InvalidArgument("id", "is required")
    return execution_id


class InvalidArgument(ValueError):
    """A request field is wrong; `field` names it the way the proto does."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


def _status_of(exc: BaseException) -> tuple[grpc.StatusCode, str] | None:
    match exc:
        case InvalidArgument():
            return grpc.StatusCode.INVALID_ARGUMENT, str(exc)
        case NotFound():
            return grpc.StatusCode.NOT_FOUND, str(exc)
        case KeyTaken():
            return grpc.StatusCode.ALREADY_EXISTS, str(exc)
        case OverLimit():
            return grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc)
        case PermissionError():
            return grpc.StatusCode.PERMISSION_DENIED, str(exc)
        case TransitionError():
            return grpc.StatusCode.FAILED_PRECONDITION, str(exc)
        case Conflict():
            return grpc.StatusCode.ABORTED, str(exc)
        case TemporalUnreachableError():
            return grpc.StatusCode.UNAVAILABLE, f"{exc}; is `stigmer server` running?"
        case RPCError():
            return grpc.StatusCode.UNAVAILABLE, f"Temporal refused the request: {exc.message}"
        case OperationalError() | InterfaceError() | DisconnectionError():
            # The store is down or restarting: a transient failure callers retry.
            return grpc.StatusCode.UNAVAILABLE, f"the store is unreachable: {type(exc).__name__}"
    return None


def rpc(method: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """Map known exceptions of a unary handler to gRPC statuses; log the unknown ones."""

    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> T:
        try:
            return await method(self, request, context)
        except Exception as exc:
            mapped = _status_of(exc)
            if mapped is None:
                log.exception("request failed", method=method.__name__)
                mapped = (grpc.StatusCode.INTERNAL, f"internal error: {type(exc).__name__}: {exc}")
            await context.abort(*mapped)
            raise  # abort raises; this keeps type checkers content

    return wrapper


def rpc_stream(
    method: Callable[..., AsyncIterator[T]],
) -> Callable[..., AsyncIterator[T]]:
    @functools.wraps(method)
    async def wrapper(
        self: Any, request: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[T]:
        try:
            async for item in method(self, request, context):
                yield item
        except Exception as exc:
            mapped = _status_of(exc)
            if mapped is None:
                log.exception("stream failed", method=method.__name__)
                mapped = (grpc.StatusCode.INTERNAL, f"internal error: {type(exc).__name__}: {exc}")
            await context.abort(*mapped)

    return wrapper
