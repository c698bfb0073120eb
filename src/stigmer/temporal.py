"""One way for every part of the platform to reach Temporal, configured from settings."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client, Interceptor, Plugin
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode

from stigmer.config import Settings
from stigmer.credentials import payload_keyring
from stigmer.errors import PlatformError
from stigmer.observability.tracing import temporal_interceptors
from stigmer.sealing.codec import sealed_data_converter

DEFAULT_CONNECT_TIMEOUT = 10.0


class TemporalUnreachableError(PlatformError):
    """Temporal did not answer at the configured address, or lacks the namespace."""


async def connect_temporal(
    settings: Settings,
    *,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    data_converter: DataConverter | None = None,
    interceptors: Sequence[Interceptor] = (),
    plugins: Sequence[Plugin] = (),
    runtime: Runtime | None = None,
    identity: str | None = None,
) -> Client:
    """A connected client for ``settings.temporal_target`` and its namespace.

    The namespace is described once so that a typo fails here, with its name, rather
    than on the first workflow call. TLS is on when asked for, and also when an API key
    is given (Temporal's own default), because API keys are only sent over TLS. With an
    OTLP endpoint set, the client (and workers built on it) carry traces. Payloads are
    sealed with the platform's keys (`stigmer.sealing`) unless `data_converter` says
    otherwise.
    """
    target = settings.temporal_target
    namespace = settings.temporal_namespace
    converter = data_converter or sealed_data_converter(payload_keyring(settings))
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    try:
        client = await asyncio.wait_for(
            Client.connect(
                target,
                namespace=namespace,
                api_key=api_key,
                tls=True if settings.temporal_tls else None,
                data_converter=converter,
                interceptors=[*interceptors, *temporal_interceptors(settings)],
                plugins=plugins,
                runtime=runtime,
                identity=identity,
            ),
            timeout=connect_timeout,
        )
    except TimeoutError as err:
        raise TemporalUnreachableError(
            f"Temporal is not reachable at {target}: no answer within {connect_timeout:g}s"
        ) from err
    except RuntimeError as err:
        raise TemporalUnreachableError(f"Temporal is not reachable at {target}: {err}") from err
    try:
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=namespace),
            timeout=timedelta(seconds=connect_timeout),
        )
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise TemporalUnreachableError(
                f"Temporal at {target} has no namespace {namespace!r}"
            ) from err
        # Keys scoped to workflows may not describe namespaces; the connection still works.
        if err.status != RPCStatusCode.PERMISSION_DENIED:
            raise TemporalUnreachableError(
                f"Temporal is not reachable at {target}: {err.message}"
            ) from err
    return client
