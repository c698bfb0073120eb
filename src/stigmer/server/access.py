"""Who may call what: clients with the user token, the platform's workers with theirs.

Two credentials, two audiences. The *user token* (`STIGMER_API_TOKEN`) admits clients —
the CLI, the console, users' programs — to the definition, execution and event services;
without one (allowed on loopback only) clients need none. The *worker credential* admits
the platform's own workers to `WorkerService` too: reading a caller's task token, writing
an execution's status, reporting results and deliveries. A client is refused those with
PERMISSION_DENIED, on loopback as well, so no local process can read a token or forge an
agent's end. Tokens are compared in constant time and never logged.

Who made a call, as audit records name them, is what the API can check: the credential
the call carried (the user token by its fingerprint, the worker credential, or none on a
loopback API without a user token) and the address it came from; never what the request
says about itself.
"""

from __future__ import annotations

import enum
import hmac
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import grpc

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.user_token import fingerprint

OPEN_PREFIXES = ("/grpc.health.v1.Health/",)
WORKER_SERVICE = "/" + pb.DESCRIPTOR.services_by_name["WorkerService"].full_name + "/"


class Role(enum.Enum):
    CLIENT = "client"
    WORKER = "worker"


Metadata = Iterable[tuple[str, str | bytes]] | None


class Access:
    """The roles the credentials of this API grant."""

    def __init__(self, user_token: str | None, worker_token: str) -> None:
        if not worker_token:
            raise ValueError("the worker credential must not be empty")
        self._user = f"Bearer {user_token}".encode() if user_token else None
        self._worker = f"Bearer {worker_token}".encode()
        self._user_name = f"user token {fingerprint(user_token)}" if user_token else ""

    def role(self, metadata: Metadata) -> Role | None:
        """The caller's role, or None when its credential is missing or wrong."""
        return self._credential(metadata)[0]

    def is_worker(self, context: grpc.aio.ServicerContext[Any, Any]) -> bool:
        metadata: Metadata = context.invocation_metadata()
        return self.role(metadata) is Role.WORKER

    def caller(self, context: grpc.aio.ServicerContext[Any, Any]) -> str:
        """Who made this call, for an audit record: its credential and its address."""
        metadata: Metadata = context.invocation_metadata()
        return f"{self._credential(metadata)[1]} from {context.peer() or 'an unknown address'}"

    def _credential(self, metadata: Metadata) -> tuple[Role | None, str]:
        """The role the call's credential grants, and that credential's name."""
        given = _bearer(metadata)
        if given is not None and hmac.compare_digest(given, self._worker):
            return Role.WORKER, "the worker credential"
        if self._user is None:
            # No user token set: clients need none (loopback only); whatever one sent
            # was not checked, so it names no one.
            return Role.CLIENT, "no credential"
        if given is not None and hmac.compare_digest(given, self._user):
            return Role.CLIENT, self._user_name
        return None, "a wrong credential"


def _bearer(metadata: Metadata) -> bytes | None:
    for key, value in metadata or ():
        if key == "authorization":
            return value.encode() if isinstance(value, str) else value
    return None


class AccessInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Refuses a call its caller's credential does not admit, before the handler runs."""

    def __init__(self, access: Access) -> None:
        self.access = access

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        method = handler_call_details.method
        handler = await continuation(handler_call_details)
        # An unknown method has no handler: gRPC answers UNIMPLEMENTED, token or not.
        if handler is None or method.startswith(OPEN_PREFIXES):
            return handler
        role = self.access.role(handler_call_details.invocation_metadata)
        if role is None:
            return _refusal(
                handler,
                grpc.StatusCode.UNAUTHENTICATED,
                "missing or wrong bearer token: pass --token or set STIGMER_API_TOKEN",
            )
        if method.startswith(WORKER_SERVICE) and role is not Role.WORKER:
            return _refusal(
                handler,
                grpc.StatusCode.PERMISSION_DENIED,
                f"{method} is for the platform's own workers (the worker credential)",
            )
        return handler


def _refusal(
    handler: grpc.RpcMethodHandler[Any, Any], code: grpc.StatusCode, message: str
) -> grpc.RpcMethodHandler[Any, Any]:
    """A handler of the same shape that refuses the call (reflection streams both ways)."""

    async def refuse(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        if handler.request_streaming:
            # Take the client's first message before refusing: a refusal that lands while
            # the client is still sending it reaches the client as INTERNAL instead.
            async for _ in request:
                break
        await context.abort(code, message)

    async def refuse_stream(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await refuse(request, context)
        yield  # pragma: no cover - abort raised

    shape = {
        (False, False): (grpc.unary_unary_rpc_method_handler, refuse),
        (False, True): (grpc.unary_stream_rpc_method_handler, refuse_stream),
        (True, False): (grpc.stream_unary_rpc_method_handler, refuse),
        (True, True): (grpc.stream_stream_rpc_method_handler, refuse_stream),
    }
    make, behavior = shape[(handler.request_streaming, handler.response_streaming)]
    return make(
        behavior,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )
