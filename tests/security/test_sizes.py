"""Finding 5, replayed with real processes: sizes are refusals, not retries. A 40 MiB agent
result ends FAILED `too-large` within a minute, naming its size and the limit, and the
`call: agent` that called it fails with the same error; so does an engine task whose
answer is over Temporal's payload limit, a workflow whose output is over the result
limit, a workflow whose input Temporal refuses, a progress report that would grow a
status past its limit, and a request over the API's message limit (refused before it
is sent, and by the server when a client sends it anyway)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import grpc
import pytest

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.api.v1 import stigmer_pb2_grpc as pb_grpc
from stigmer.client import Client, TooLarge
from stigmer.contract import problems
from stigmer.contract.limits import MAX_MESSAGE_BYTES, MAX_STATUS_BYTES, MIB
from tests.handshake.helpers import agent_task, document, one_child, script
from tests.security.platforms import SCRIPTED, ServedPlatform
from tests.support.listening import serving

pytestmark = [pytest.mark.temporal, pytest.mark.timeout(300)]

ENDED_WITHIN = 60.0
FORTY_MIB = {"entrypoint": "tests.security.sized_agents:forty_mib"}
"""Imported by the platform's runner: its processes start in the project's root."""
ENDED = (pb.COMPLETED, pb.FAILED, pb.CANCELLED)


class _Large(BaseHTTPRequestHandler):
    """Answers GET /N with N bytes."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests read answers, not access logs."""

    def do_GET(self) -> None:
        body = b"y" * int(self.path.strip("/"))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def large() -> Iterator[str]:
    with serving(_Large, "large") as base:
        yield base


async def ended_within(client: Client, execution_id: str, seconds: float) -> pb.Execution:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        found = await client.execution(execution_id)
        if found.status.phase in ENDED:
            print(f"\n{execution_id} ended in {time.monotonic() - start:.1f}s")
            return found
        await asyncio.sleep(0.5)
    raise AssertionError(f"{execution_id} still open after {seconds:g}s")


def too_large(execution: pb.Execution, *words: str) -> None:
    """FAILED with the `too-large` error, its detail naming each of `words`."""
    error = execution.status.error
    assert execution.status.phase == pb.FAILED, execution.status
    assert error.type == problems.TOO_LARGE and error.status == 413, error
    for word in words:
        assert word in error.detail, error.detail


async def test_a_40_mib_agent_result_fails_at_once_and_its_caller_with_it(
    default_served: ServedPlatform,
) -> None:
    async with default_served.client() as client:
        await client.apply("agent", "forty-mib", FORTY_MIB)
        ask = agent_task("ask", "answer at length", agent="forty-mib")
        run = await client.run_workflow(document=document(ask, name="forty-mib"))
        started = time.monotonic()
        call = await one_child(client, run.execution.id)
        agent = await ended_within(client, call.id, ENDED_WITHIN)
        caller = await ended_within(client, run.execution.id, ENDED_WITHIN)
    assert time.monotonic() - started < ENDED_WITHIN
    print(f"agent: {agent.status.error.detail}\ncaller: {caller.status.error.detail}")
    too_large(agent, "the agent's result is 40.0 MiB", "the API's message limit of 32.0 MiB")
    too_large(caller, "the agent's result is 40.0 MiB", "32.0 MiB")
    logged = [line for line in default_served.logs().splitlines() if "too large" in line]
    assert any("the agent's result is 40.0 MiB" in line for line in logged), "it is logged"


async def test_a_40_mib_progress_message_fails_the_agent_at_once(
    default_served: ServedPlatform,
) -> None:
    """The scripted agent reports its output as a message before it returns it."""
    async with default_served.client() as client:
        await client.apply("agent", "scripted", SCRIPTED)
        created = await client.run_agent("scripted", script(output="x", repeat=40 * MIB))
        done = await ended_within(client, created.execution.id, ENDED_WITHIN)
    too_large(done, "a progress report", "40.0 MiB", "the API's message limit of 32.0 MiB")


async def test_an_answer_over_temporals_payload_limit_faults_its_task(
    default_served: ServedPlatform, large: str
) -> None:
    fetch = {"fetch": {"call": "http", "with": {"method": "get", "endpoint": f"{large}/3145728"}}}
    async with default_served.client() as client:
        run = await client.run_workflow(document=document(fetch, name="large-answer"))
        done = await ended_within(client, run.execution.id, ENDED_WITHIN)
    too_large(done, "the result of", "3.0 MiB", "Temporal's payload limit")
    assert done.status.error.instance == "/do/0/fetch"


async def test_a_request_over_temporals_payload_limit_faults_its_task_at_once(
    default_served: ServedPlatform, large: str
) -> None:
    """A task whose activity input would be over the limit never schedules it (the workflow
    task scheduling it would be refused at every try): it faults `too-large`, and so does
    an agent call whose message is too large."""
    body = '${ "b" * 3145728 }'
    send = {
        "send": {"call": "http", "with": {"method": "post", "endpoint": f"{large}/1", "body": body}}
    }
    ask = agent_task("ask", '${ "m" * 3145728 }')
    async with default_served.client() as client:
        await client.apply("agent", "scripted", SCRIPTED)
        sent = await client.run_workflow(document=document(send, name="large-request"))
        asked = await client.run_workflow(document=document(ask, name="large-message"))
        started = time.monotonic()
        done = await ended_within(client, sent.execution.id, ENDED_WITHIN)
        called = await ended_within(client, asked.execution.id, ENDED_WITHIN)
        assert time.monotonic() - started < 30  # at once, not by the reconciler's check
        assert not (await client.list_executions(parent_execution_id=asked.execution.id)).executions
    too_large(done, "the request of /do/0/send", "3.0 MiB", "Temporal's payload limit")
    assert done.status.error.instance == "/do/0/send"
    too_large(called, "the request of agent call 'scripted'", "Temporal's payload limit")


async def test_a_workflow_output_over_the_result_limit_fails_it(
    default_served: ServedPlatform,
) -> None:
    grow = {"grow": {"set": {"blob": '${ "x" * 33554432 }'}}}
    async with default_served.client() as client:
        run = await client.run_workflow(document=document(grow, name="large-output"))
        done = await ended_within(client, run.execution.id, ENDED_WITHIN)
    too_large(done, "the workflow's output is 32.0 MiB", "31.0 MiB")


async def test_a_workflow_input_temporal_refuses_fails_at_creation(
    default_served: ServedPlatform,
) -> None:
    wait = {"pause": {"wait": {"seconds": 1}}}
    async with default_served.client() as client:
        created = await client.run_workflow(
            document=document(wait, name="large-input"), input={"blob": "z" * (3 * MIB)}
        )
    too_large(created.execution, "its workflow's input", "Temporal's payload limit")


async def test_progress_that_would_grow_a_status_past_its_limit_is_refused(
    default_served: ServedPlatform,
) -> None:
    """Reports of 4 MiB each: three fit in a status, a fourth would take it past 16 MiB."""
    worker = default_served.worker_client()
    async with default_served.client() as client:
        await client.apply("agent", "scripted", SCRIPTED)
        created = await client.run_agent("scripted", script(sleep=120))
        execution_id = created.execution.id
        for _ in range(120):
            if (await client.execution(execution_id)).status.phase == pb.IN_PROGRESS:
                break
            await asyncio.sleep(0.5)
        quarter = pb.AgentMessage(role="assistant", content="m" * (MAX_STATUS_BYTES // 4))
        accepted = 0
        try:
            with pytest.raises(TooLarge) as refused:
                for _ in range(5):
                    await worker.report_progress(
                        pb.ProgressReport(id=execution_id, attempt=1, append_messages=[quarter])
                    )
                    accepted += 1
        finally:
            await worker.close()
            await client.cancel(execution_id)
    assert accepted == 3
    assert "the execution's status" in str(refused.value) and "16.0 MiB" in str(refused.value)


async def test_a_request_over_the_message_limit_is_refused_before_and_at_the_server(
    default_served: ServedPlatform,
) -> None:
    oversized = pb.ExecutionSpec(kind=pb.AGENT_EXECUTION)
    oversized.agent.agent, oversized.agent.message = "scripted", "q" * (MAX_MESSAGE_BYTES + 1)
    async with default_served.client() as client:
        with pytest.raises(TooLarge) as refused:
            await client.create(oversized)
    assert "the Create request is 32.0 MiB" in str(refused.value)
    # A client that sends it anyway is refused by the server, and never retried by ours.
    options = [("grpc.max_send_message_length", 2 * MAX_MESSAGE_BYTES)]
    async with grpc.aio.insecure_channel(default_served.loopback, options=options) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as answered:
            await pb_grpc.ExecutionServiceStub(channel).Create(
                pb.CreateExecutionRequest(spec=oversized), timeout=ENDED_WITHIN
            )
    assert answered.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
