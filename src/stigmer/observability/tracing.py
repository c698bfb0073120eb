"""OpenTelemetry traces across the API, the engine and agent workflows.

Only when `otlp_endpoint` is set: then spans go to that OTLP/gRPC collector, Temporal's
`TracingInterceptor` carries the trace through workflow and activity headers, and API
calls carry it in their metadata (`traceparent`), so one trace follows a workflow into
the agent it calls and back. Unset, nothing is installed and nothing is paid, not even the imports: every client
(the CLI above all) loads this module.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from temporalio.client import Interceptor

    from stigmer.config import Settings

_enabled = False


def configure_tracing(settings: Settings) -> bool:
    """Install the exporting tracer provider once per process; whether tracing is on."""
    global _enabled
    if settings.otlp_endpoint is None:
        return False
    if not _enabled:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider = TracerProvider(resource=Resource.create({"service.name": "stigmer"}))
        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otlp_endpoint))
        )
        trace.set_tracer_provider(provider)
        _enabled = True
    return True


def shutdown_tracing() -> None:
    """Send the spans still batched; a process about to exit calls this."""
    if _enabled:
        from opentelemetry import trace

        provider = trace.get_tracer_provider()
        shutdown = getattr(provider, "shutdown", None)
        if callable(shutdown):
            shutdown()


def temporal_interceptors(settings: Settings) -> list[Interceptor]:
    """Temporal's tracing interceptor when tracing is on; none otherwise."""
    if not configure_tracing(settings):
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]


def outgoing_metadata() -> tuple[tuple[str, str], ...]:
    """The current trace context as gRPC metadata for an API call (empty when off)."""
    if not _enabled:
        return ()
    from opentelemetry import propagate

    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return tuple(carrier.items())


@contextlib.contextmanager
def server_span(method: str, metadata: Sequence[tuple[str, str | bytes]]) -> Iterator[None]:
    """A span for one API call, continuing the caller's trace (nothing when off)."""
    if not _enabled:
        yield
        return
    from opentelemetry import context, propagate, trace

    carrier = {key: value for key, value in metadata if isinstance(value, str)}
    token = context.attach(propagate.extract(carrier))
    try:
        tracer = trace.get_tracer("stigmer.server")
        with tracer.start_as_current_span(method, kind=trace.SpanKind.SERVER):
            yield
    finally:
        context.detach(token)
