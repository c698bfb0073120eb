"""Counting and timing every API call, by method and gRPC status code (and tracing it)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from stigmer.observability.metrics import API_LATENCY, API_REQUESTS
from stigmer.observability.tracing import server_span

Context = grpc.aio.ServicerContext[Any, Any]


class ApiMetricsInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Outermost interceptor, so calls refused for their token are counted too."""

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        if handler is None or handler.request_streaming:
            return handler  # the API has no client-streaming methods; leave them be
        full = handler_call_details.method
        service, _, method = full.lstrip("/").rpartition("/")
        service = service.rpartition(".")[2]
        metadata = tuple(handler_call_details.invocation_metadata or ())
        if handler.response_streaming:
            return grpc.unary_stream_rpc_method_handler(
                _streaming(handler.unary_stream, service, method, full, metadata),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return grpc.unary_unary_rpc_method_handler(
            _unary(handler.unary_unary, service, method, full, metadata),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _unary(
    behavior: Any, service: str, method: str, full: str, metadata: tuple[Any, ...]
) -> Callable[[Any, Context], Awaitable[Any]]:
    async def handle(request: Any, context: Context) -> Any:
        start = time.perf_counter()
        ending = "UNKNOWN"
        try:
            with server_span(full, metadata):
                response = await behavior(request, context)
            ending = "OK"
            return response
        except asyncio.CancelledError:
            ending = "CANCELLED"  # the client went away or its deadline passed
            raise
        finally:
            _observe(service, method, context, ending, start)

    return handle


def _streaming(
    behavior: Any, service: str, method: str, full: str, metadata: tuple[Any, ...]
) -> Callable[[Any, Context], AsyncIterator[Any]]:
    async def handle(request: Any, context: Context) -> AsyncIterator[Any]:
        start = time.perf_counter()
        ending = "UNKNOWN"
        try:
            with server_span(full, metadata):
                async for item in behavior(request, context):
                    yield item
            ending = "OK"
        except (asyncio.CancelledError, GeneratorExit):
            ending = "CANCELLED"  # a watcher hung up: the normal end of a stream
            raise
        finally:
            _observe(service, method, context, ending, start)

    return handle


def _observe(service: str, method: str, context: Context, ending: str, start: float) -> None:
    """`ending` names the code when the handler set none: OK, CANCELLED or UNKNOWN."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        ending = code.name
    elif code is not None:
        ending = str(code)
    API_REQUESTS.labels(service, method, ending).inc()
    API_LATENCY.labels(service, method).observe(time.perf_counter() - start)
