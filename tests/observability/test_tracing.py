"""With an OTLP endpoint set, one trace follows a workflow through the API into the agent it
calls; a loopback collector receives the spans. The platform runs as its own process, since
a tracer provider is set once per process."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from stigmer.client import Client
from stigmer.local.embedded import EmbeddedTemporal, free_port
from tests.handshake.helpers import SCRIPTED, agent_task, document, eventually, script

pytestmark = pytest.mark.timeout(180)


class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    """Span names by trace id, as an OpenTelemetry collector would receive them."""

    def __init__(self) -> None:
        self.traces: defaultdict[bytes, set[str]] = defaultdict(set)

    async def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: Any
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        for resource in request.resource_spans:
            for scope in resource.scope_spans:
                for span in scope.spans:
                    self.traces[span.trace_id].add(span.name)
        return trace_service_pb2.ExportTraceServiceResponse()


@pytest.fixture
async def collector() -> AsyncIterator[tuple[Collector, int]]:
    found = Collector()
    server = grpc.aio.server()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(found, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield found, port
    finally:
        await server.stop(None)


async def test_one_trace_follows_a_call_into_its_agent(
    temporal_server: EmbeddedTemporal, tmp_path: Path, collector: tuple[Collector, int]
) -> None:
    spans, port = collector
    api_port = free_port()
    env = {
        **os.environ,
        "STIGMER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
        "STIGMER_QUEUE_PREFIX": "traced-",
        "STIGMER_METRICS_PORT": "0",
        "STIGMER_CONSOLE_PORT": "0",
        "STIGMER_LOG_LEVEL": "WARNING",
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "stigmer.cli.main", "server",
        "--temporal-address", temporal_server.address, "--port", str(api_port),
        "--data-dir", str(tmp_path / "data"),
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with Client(f"127.0.0.1:{api_port}") as client:
            await client.wait_ready(60)
            await eventually(lambda: _answers(client), seconds=60)
            await client.apply("agent", "scripted", SCRIPTED)
            run = await client.run_workflow(document=document(agent_task("ask", script())))
            done = await client.wait(run.execution.id)
            assert done.status.phase == 3, done.status.error  # COMPLETED

        def joined() -> bool:
            return any(
                {"StartActivity:stigmer/engine/call-agent", "RunWorkflow:stigmer/agent-execution"}
                <= names
                for names in spans.traces.values()
            )

        async def exported() -> bool:
            return joined()

        await eventually(exported, seconds=30)
        names = next(n for n in spans.traces.values() if "RunWorkflow:stigmer/agent-execution" in n)
        assert "/stigmer.v1.ExecutionService/Create" in names, json.dumps(sorted(names))
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 30)


async def _answers(client: Client) -> bool:
    try:
        await client.list("agent")
    except Exception:
        return False
    return True
