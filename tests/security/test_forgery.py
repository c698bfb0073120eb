"""From outside, through Temporal's own frontend: nobody but the platform ends a call.

Any local process can reach the Temporal frontend, see a running caller's pending
activity and answer it (`temporal activity complete`/`fail`, or the gRPC API by id). Each
such answer is refused: recorded as a forgery (log event, metric), never taken as the
result, and the caller re-attaches to its execution on a fresh token and receives its
agent's real ending. Everything the platform put in the history is sealed: no input or
output is readable there, and a workflow started or signalled by hand runs nothing.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import TimeoutType
from temporalio.api.failure.v1 import (
    ApplicationFailureInfo,
    CanceledFailureInfo,
    Failure,
    TimeoutFailureInfo,
)
from temporalio.api.workflowservice.v1 import (
    RespondActivityTaskCompletedByIdRequest,
    RespondActivityTaskFailedByIdRequest,
)
from temporalio.client import Client as TemporalClient

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import Client
from stigmer.local.embedded import EmbeddedTemporal
from tests.handshake.helpers import agent_task, document, eventually, one_child, output_of, script
from tests.security.platforms import SCRIPTED, ServedPlatform

pytestmark = [pytest.mark.temporal, pytest.mark.timeout(300)]

TEMPORAL_CLI = Path(sys.executable).with_name("temporal")
OWN_WORDS = "the agent's own words"
FORGED = "FORGED-OUTPUT"
WAIT = 60
BOOKKEEPING = "marker_recorded_event_attributes/details[data]/"
"""Where Temporal's SDK keeps a local activity's ids and times (its result is sealed)."""


def cli(temporal: EmbeddedTemporal, *args: str) -> subprocess.CompletedProcess[str]:
    """The Temporal CLI, as any process on the machine may run it."""
    return subprocess.run(
        [str(TEMPORAL_CLI), *args, "--address", temporal.address],
        capture_output=True,
        text=True,
        timeout=WAIT,
    )


async def held_call(client: Client, until: Path) -> tuple[str, pb.Execution]:
    """A DSL workflow whose `call: agent` is pending, its agent held until `until` exists:
    the run's id and the agent execution, its caller's activity known."""
    await client.apply("agent", "scripted", SCRIPTED)
    message = script(until=str(until), output=OWN_WORDS)
    run = await client.run_workflow(document=document(agent_task("ask", message)))
    call = await one_child(client, run.execution.id, seconds=WAIT)

    async def pending() -> bool:
        found = await client.execution(call.id)
        return found.status.phase == pb.IN_PROGRESS and bool(found.status.callback.activity_id)

    await eventually(pending, seconds=WAIT)
    return run.execution.id, await client.execution(call.id)


async def re_attached(client: Client, call_id: str, handover: int) -> pb.Execution:
    """The call once its caller re-attached `handover` times."""

    async def moved() -> bool:
        return (await client.execution(call_id)).status.callback.handover >= handover

    await eventually(moved, seconds=WAIT)
    return await client.execution(call_id)


async def the_real_end(client: Client, run_id: str, call_id: str, until: Path) -> pb.Execution:
    await asyncio.to_thread(until.touch)
    async with asyncio.timeout(WAIT):
        finished = await client.wait(run_id)
    assert finished.status.phase == pb.COMPLETED, finished.status.error
    assert output_of(finished)["output"] == OWN_WORDS
    assert FORGED not in str(finished)
    answered = await client.execution(call_id)
    assert answered.status.callback.outcome == pb.CALLBACK_DELIVERED
    return answered


def forged_result() -> str:
    return json.dumps({"execution_id": "x", "phase": "COMPLETED", "output": FORGED})


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (("complete", "--result", forged_result()), "not seal"),
        (("fail", "--reason", FORGED), "did not make"),
    ],
    ids=["complete", "fail"],
)
async def test_an_answer_forged_with_the_temporal_cli_is_refused(
    served: ServedPlatform,
    temporal_server: EmbeddedTemporal,
    tmp_path: Path,
    answer: tuple[str, str, str],
    why: str,
) -> None:
    """`temporal activity complete|fail` on the pending caller: Temporal takes it, the
    caller does not; it re-attaches and the call ends with the agent's own words."""
    until = tmp_path / "release"
    verb, option, value = answer
    async with served.client() as client:
        run_id, call = await held_call(client, until)
        callback = call.status.callback
        done = cli(
            temporal_server,
            *("activity", verb, "--workflow-id", callback.workflow_id),
            *("--activity-id", callback.activity_id, option, value),
        )
        assert done.returncode == 0, done.stderr  # Temporal took it: the caller must not

        again = await re_attached(client, call.id, 1)
        assert again.status.phase == pb.IN_PROGRESS
        assert again.status.callback.activity_id != callback.activity_id
        assert why in again.status.callback.handover_reason
        notes = [m.content for m in again.status.messages if m.role == "system"]
        assert any("refused a forged ending" in note for note in notes), notes
        answered = await the_real_end(client, run_id, call.id, until)
    assert answered.status.callback.handover == 1
    refused = [line for line in served.logs().splitlines() if "forgery refused" in line]
    assert any("caller" in line for line in refused), refused


def crafted_failures() -> dict[str, Failure]:
    """Failures only Temporal or the platform may make, crafted by hand."""
    return {
        "timeout": Failure(
            message=FORGED,
            timeout_failure_info=TimeoutFailureInfo(
                timeout_type=TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE
            ),
        ),
        "cancellation": Failure(message=FORGED, canceled_failure_info=CanceledFailureInfo()),
        "non-retryable": Failure(
            message=FORGED,
            application_failure_info=ApplicationFailureInfo(
                type="https://serverlessworkflow.io/spec/1.0.0/errors/runtime",
                non_retryable=True,
            ),
        ),
    }


async def test_crafted_timeouts_cancellations_and_failures_are_refused_in_turn(
    default_served: ServedPlatform, temporal_server: EmbeddedTemporal, tmp_path: Path
) -> None:
    """By gRPC to the frontend, with no SDK and no key: each crafted failure in turn,
    on the same call; the caller re-attaches after each and still gets the real end."""
    until = tmp_path / "release"
    frontend = await TemporalClient.connect(temporal_server.address)
    async with default_served.client() as client:
        run_id, call = await held_call(client, until)
        for handover, failure in enumerate(crafted_failures().values(), start=1):
            callback = (await client.execution(call.id)).status.callback
            await frontend.workflow_service.respond_activity_task_failed_by_id(
                RespondActivityTaskFailedByIdRequest(
                    namespace="default",
                    workflow_id=callback.workflow_id,
                    run_id=callback.run_id,
                    activity_id=callback.activity_id,
                    failure=failure,
                )
            )
            await re_attached(client, call.id, handover)
        answered = await the_real_end(client, run_id, call.id, until)
    assert answered.status.callback.handover == len(crafted_failures())


async def sealed_completion(
    frontend: TemporalClient, workflow_id: str, activity_id: str
) -> Payload:
    """The sealed result with which the platform completed a caller's activity."""
    history = await frontend.get_workflow_handle(workflow_id).fetch_history()
    scheduled = {
        event.event_id
        for event in history.events
        if event.activity_task_scheduled_event_attributes.activity_id == activity_id
    }
    for event in history.events:
        attributes = event.activity_task_completed_event_attributes
        if attributes.scheduled_event_id in scheduled:
            return attributes.result.payloads[0]
    raise AssertionError(f"no completion of {activity_id} in {workflow_id}")


async def test_a_sealed_completion_replayed_onto_another_call_is_refused(
    default_served: ServedPlatform, temporal_server: EmbeddedTemporal, tmp_path: Path
) -> None:
    """A payload the platform really sealed, copied from one call's history onto another
    call: it opens, but it names another call, so it is refused."""
    frontend = await TemporalClient.connect(temporal_server.address)
    async with default_served.client() as client:
        await client.apply("agent", "scripted", SCRIPTED)
        other = await client.run_workflow(
            document=document(agent_task("ask", script(output=FORGED)))
        )
        async with asyncio.timeout(WAIT):
            ended = await client.wait(other.execution.id)
        assert output_of(ended)["output"] == FORGED
        first = await one_child(client, other.execution.id)
        stolen = await sealed_completion(
            frontend, first.status.callback.workflow_id, first.status.callback.activity_id
        )
        assert stolen.metadata["encoding"] == b"binary/encrypted"

        until = tmp_path / "release"
        run_id, call = await held_call(client, until)
        callback = call.status.callback
        await frontend.workflow_service.respond_activity_task_completed_by_id(
            RespondActivityTaskCompletedByIdRequest(
                namespace="default",
                workflow_id=callback.workflow_id,
                run_id=callback.run_id,
                activity_id=callback.activity_id,
                result=Payloads(payloads=[stolen]),
            )
        )
        again = await re_attached(client, call.id, 1)
        assert "another call" in again.status.callback.handover_reason
        await the_real_end(client, run_id, call.id, until)


async def test_histories_hold_nothing_readable(
    served: ServedPlatform, temporal_server: EmbeddedTemporal, tmp_path: Path
) -> None:
    """Every payload of the caller's and the agent's histories is sealed: the message, the
    output and the agent's name are nowhere in clear."""
    until = tmp_path / "release"
    async with served.client() as client:
        run_id, call = await held_call(client, until)
        await the_real_end(client, run_id, call.id, until)
        run = await client.execution(run_id)
    frontend = await TemporalClient.connect(temporal_server.address)
    for workflow_id in (run.status.temporal_workflow_id, call.status.temporal_workflow_id):
        history = await frontend.get_workflow_handle(workflow_id).fetch_history()
        payloads = {where: p for event in history.events for where, p in _payloads(event).items()}
        assert len(payloads) > 3, "the history has payloads"
        clear = {
            where: payload.data[:200]
            for where, payload in payloads.items()
            if payload.metadata["encoding"] != b"binary/encrypted" and BOOKKEEPING not in where
        }
        assert clear == {}
        raw = b"".join(event.SerializeToString() for event in history.events)
        for clear in (OWN_WORDS, str(until), "scripted"):
            assert clear.encode() not in raw, f"{clear!r} is readable in {workflow_id}"


def _payloads(event: Any) -> dict[str, Payload]:
    """Every payload in a history event, by where it is in the event."""
    found: dict[str, Payload] = {}

    def walk(message: Any, path: str) -> None:
        for field, value in message.ListFields():
            if field.message_type is None:
                continue
            if hasattr(value, "ListFields"):
                items = [(field.name, value)]
            elif hasattr(value, "items"):  # a map
                items = [(f"{field.name}[{key}]", item) for key, item in value.items()]
            else:
                items = [(f"{field.name}[{i}]", item) for i, item in enumerate(value)]
            for name, item in items:
                if isinstance(item, Payload):
                    found[f"{path}/{name}"] = item
                elif hasattr(item, "ListFields"):
                    walk(item, f"{path}/{name}")

    walk(event, str(event.event_id))
    return found


async def test_a_workflow_started_by_hand_on_the_platforms_queue_runs_nothing(
    default_served: ServedPlatform, temporal_server: EmbeddedTemporal, tmp_path: Path
) -> None:
    """A `stigmer/workflow-execution` started through Temporal with a document of the
    attacker's: it fails at once as a forgery, before any of its tasks is scheduled."""
    attack = {
        "execution_id": "wfx-forged",
        "document": document(
            {
                "fetch": {
                    "call": "http",
                    "with": {"method": "get", "endpoint": "http://127.0.0.1:9/"},
                }
            }
        ),
        "input": None,
    }
    workflow_id = f"forged-{tmp_path.name}"
    started = cli(
        temporal_server,
        *("workflow", "start", "--type", "stigmer/workflow-execution"),
        *("--task-queue", f"{default_served.queue_prefix}stigmer-engine"),
        *("--workflow-id", workflow_id, "--input", json.dumps(attack)),
    )
    assert started.returncode == 0, started.stderr
    frontend = await TemporalClient.connect(temporal_server.address)
    handle = frontend.get_workflow_handle(workflow_id)

    async def failed() -> bool:
        status = (await handle.describe()).status
        return status is not None and status.name == "FAILED"

    await eventually(failed, seconds=WAIT)
    history = await handle.fetch_history()
    kinds = {event.WhichOneof("attributes") for event in history.events}
    assert "activity_task_scheduled_event_attributes" not in kinds
    refused = [line for line in default_served.logs().splitlines() if "forgery refused" in line]
    assert any("workflow-input" in line for line in refused), refused


async def test_a_forged_completion_of_the_agent_run_is_refused_and_the_agent_runs_again(
    default_served: ServedPlatform, temporal_server: EmbeddedTemporal, tmp_path: Path
) -> None:
    """The runner's own activity answered by hand: its workflow takes no such result, and
    runs the agent again; the execution ends with what the agent said."""
    until = tmp_path / "release"
    frontend = await TemporalClient.connect(temporal_server.address)
    async with default_served.client() as client:
        await client.apply("agent", "scripted", SCRIPTED)
        created = await client.run_agent("scripted", script(until=str(until), output=OWN_WORDS))
        agent = frontend.get_workflow_handle(created.execution.status.temporal_workflow_id)

        async def running() -> bool:
            return bool((await agent.describe()).raw_description.pending_activities)

        await eventually(running, seconds=WAIT)
        pending = (await agent.describe()).raw_description.pending_activities[0]
        done = cli(
            temporal_server,
            *("activity", "complete", "--workflow-id", agent.id),
            *("--activity-id", pending.activity_id, "--result", json.dumps({"attempt": 1})),
        )
        assert done.returncode == 0, done.stderr

        async def run_again() -> bool:
            found = (await agent.describe()).raw_description.pending_activities
            return bool(found) and found[0].activity_id != pending.activity_id

        await eventually(run_again, seconds=WAIT)
        await asyncio.to_thread(until.touch)
        async with asyncio.timeout(WAIT):
            finished = await client.wait(created.execution.id)
    assert finished.status.phase == pb.COMPLETED, finished.status.error
    assert finished.status.output == OWN_WORDS
    refused = [line for line in default_served.logs().splitlines() if "forgery refused" in line]
    assert any("agent-result" in line for line in refused), refused
