"""Every call ends exactly once: cancels in every phase, gone callers, runs ended from
outside, superseded runners, large results, and watches that always end.

Each test drives a real platform on the session's Temporal dev server; the bare caller
(`helpers.Callers`) lets a test stop the agents worker, terminate a caller, or cancel at
a chosen moment.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import grpc
import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import ApiError
from stigmer.contract import problems
from stigmer.handshake.delivery import caller_fate
from stigmer.resources.executions import temporal_workflow_id
from stigmer.temporal import connect_temporal
from tests.handshake.helpers import (
    Callers,
    agent_task,
    document,
    eventually,
    one_child,
    script,
    wait_phase,
)

WAIT = 60.0


def marks(path: Path) -> list[str]:
    """The lines the scripted agent wrote on each start (`mark`): one per body run."""
    return path.read_text().splitlines() if path.exists() else []


async def failure_of(callers: Callers, workflow_id: str) -> ApplicationError:
    with pytest.raises(WorkflowFailureError) as failed:
        await asyncio.wait_for(callers.result(workflow_id), WAIT)
    error = failed.value.cause.cause  # type: ignore[union-attr]
    assert isinstance(error, ApplicationError), error
    return error


# ------------------------------------------------------------------ cancels


async def test_a_cancel_before_the_execution_begins_ends_it_and_tells_its_caller(
    callers: Callers, tmp_path: Path
) -> None:
    """Cancelled while PENDING, its workflow not yet picked up: it never runs its agent,
    ends CANCELLED, and its caller fails with the cancellation error soon after a worker
    takes the workflow up."""
    ran = tmp_path / "ran"
    await callers.agents.stop()  # nobody runs execution workflows yet
    workflow_id = await callers.start(script(mark=str(ran), sleep=30), heartbeat_seconds=30)
    execution = await callers.execution_of(workflow_id)
    assert execution.status.phase == pb.PENDING
    cancelled = await callers.platform.client.cancel(execution.id, "not needed", operator="test")
    assert cancelled.status.cancel_requested
    started = time.monotonic()
    await callers.agents.start()
    error = await failure_of(callers, workflow_id)
    told_after = time.monotonic() - started
    assert error.type == problems.CANCELLED
    done = await callers.platform.client.execution(execution.id)
    assert done.status.phase == pb.CANCELLED
    assert done.status.callback.outcome == pb.CALLBACK_DELIVERED
    assert marks(ran) == [], "a cancelled execution must never start its agent"
    assert told_after < 30, f"the caller heard after {told_after:.1f}s"
    audit = [m for m in done.status.messages if m.role == "system"]
    assert audit and audit[0].content.startswith("cancel requested by no credential from ")
    assert audit[0].content.endswith(' (claimed: "test"): not needed')


async def test_a_cancel_in_progress_stops_the_agent_and_tells_its_caller(
    callers: Callers, tmp_path: Path
) -> None:
    ran = tmp_path / "ran"
    workflow_id = await callers.start(script(mark=str(ran), steps=60, sleep=60))
    execution = await callers.execution_of(workflow_id)
    await wait_phase(callers.platform, execution.id, pb.IN_PROGRESS)
    await callers.platform.client.cancel(execution.id, "stop")
    error = await failure_of(callers, workflow_id)
    assert error.type == problems.CANCELLED
    done = await callers.platform.client.execution(execution.id)
    assert done.status.phase == pb.CANCELLED
    said = len(done.status.messages)
    await asyncio.sleep(3)
    assert len((await callers.platform.client.execution(execution.id)).status.messages) == said
    assert len(marks(ran)) == 1


async def test_a_call_cancelled_before_its_creation_never_runs(callers: Callers) -> None:
    """The cancel of a call whose creation is still in flight leaves a cancelled execution
    holding its key: the creation, when it lands, finds it ended and starts nothing."""
    worker = callers.platform.worker
    key = "call/caller-wf/run/agent/1"
    spec = pb.ExecutionSpec(kind=pb.AGENT_EXECUTION, idempotency_key=key)
    spec.agent.agent = "scripted"
    placeholder = await worker.cancel_call(spec, "the calling workflow was cancelled")
    assert placeholder.status.phase == pb.CANCELLED
    callback = pb.CallbackRef(
        task_token=b"caller-token", workflow_id="caller-wf", activity_id="agent/1", attempt=1
    )
    created = await worker.run_agent("scripted", "hi", idempotency_key=key, callback=callback)
    assert not created.created
    assert created.execution.id == placeholder.id
    assert created.execution.status.phase == pb.CANCELLED
    temporal = await connect_temporal(callers.platform.settings)
    workflows = [
        w
        async for w in temporal.list_workflows(
            f"WorkflowId = '{temporal_workflow_id(pb.AGENT_EXECUTION, placeholder.id)}'"
        )
    ]
    assert workflows == [], "no workflow may start for a call cancelled before it was made"


async def test_a_dsl_run_cancelled_at_once_leaves_no_agent_running(callers: Callers) -> None:
    client = callers.platform.client
    run = await client.run_workflow(document=document(agent_task("ask", script(sleep=60))))
    await client.cancel(run.execution.id, "changed my mind")
    await asyncio.wait_for(client.wait(run.execution.id), WAIT)

    async def every_call_ended() -> bool:
        calls = (await client.list_executions(parent_execution_id=run.execution.id)).executions
        return all(c.status.phase == pb.CANCELLED for c in calls)

    await eventually(every_call_ended, seconds=WAIT)


# ------------------------------------------------------------------ callers


async def test_a_gone_caller_stops_its_agent(callers: Callers, tmp_path: Path) -> None:
    """A caller terminated from outside answers NOT_FOUND to the next heartbeat: the
    execution is cancelled within two heartbeat intervals, recorded as ended because its
    caller is gone, and the agent stops working."""
    heartbeat = 3.0  # the execution beats every second
    workflow_id = await callers.start(
        script(steps=120, sleep=120), heartbeat_seconds=heartbeat, attempts=1
    )
    execution = await callers.execution_of(workflow_id)
    await wait_phase(callers.platform, execution.id, pb.IN_PROGRESS)
    temporal = await connect_temporal(callers.platform.settings)
    await temporal.get_workflow_handle(workflow_id).terminate(reason="the caller gave up")
    gone_at = time.monotonic()

    async def ended() -> bool:
        found = await callers.platform.client.execution(execution.id)
        return found.status.phase == pb.CANCELLED

    await eventually(ended, seconds=WAIT, every=0.1)
    stopped_after = time.monotonic() - gone_at
    done = await callers.platform.client.execution(execution.id)
    assert "caller is gone" in done.status.error.detail
    assert done.status.callback.outcome == pb.CALLBACK_CALLER_GONE
    interval = heartbeat / 3
    print(f"\nagent stopped {stopped_after:.2f}s after its caller was terminated")
    assert stopped_after <= 2 * interval + 5, f"stopped after {stopped_after:.1f}s"
    said = len(done.status.messages)
    await asyncio.sleep(2)
    assert len((await callers.platform.client.execution(execution.id)).status.messages) == said


async def test_a_retry_that_takes_the_end_itself_is_recorded_delivered(
    callers: Callers,
) -> None:
    worker, key = callers.platform.worker, "call/retaken/run/agent/1"

    def callback(attempt: int) -> pb.CallbackRef:
        return pb.CallbackRef(
            task_token=f"token-{attempt}".encode(),
            workflow_id="retaken",
            activity_id="agent/1",
            attempt=attempt,
        )

    first = await worker.run_agent("scripted", "hi", idempotency_key=key, callback=callback(1))
    await worker.record_ending(
        pb.EndingReport(id=first.execution.id, phase=pb.COMPLETED, output="the answer")
    )
    again = await worker.run_agent("scripted", "hi", idempotency_key=key, callback=callback(2))
    assert again.execution.status.phase == pb.COMPLETED
    callback_state = again.execution.status.callback
    assert callback_state.outcome == pb.CALLBACK_DELIVERED
    assert "attempt 2 took the recorded end" in callback_state.detail


# ------------------------------------------------------- records follow Temporal


async def test_a_run_terminated_outside_the_platform_is_recorded_and_its_watch_ends(
    callers: Callers,
) -> None:
    client = callers.platform.client
    quick = {"heartbeatTimeout": {"seconds": 3}}
    run = await client.run_workflow(
        document=document(agent_task("ask", script(sleep=120), **quick))
    )
    call = await one_child(client, run.execution.id)
    await wait_phase(callers.platform, call.id, pb.IN_PROGRESS)
    temporal = await connect_temporal(callers.platform.settings)
    await temporal.get_workflow_handle(
        temporal_workflow_id(pb.WORKFLOW_EXECUTION, run.execution.id)
    ).terminate(reason="an operator stopped it in the Temporal UI")
    done = await asyncio.wait_for(client.wait(run.execution.id), WAIT)
    assert done.status.phase == pb.CANCELLED
    assert "terminated: an operator stopped it in the Temporal UI" in done.status.error.detail
    # The agent it called finds its caller gone at its next heartbeat, and ends too.
    ended = await asyncio.wait_for(client.wait(call.id), WAIT)
    assert ended.status.phase == pb.CANCELLED


async def test_an_execution_whose_caller_cannot_be_told_still_ends_its_watch(
    callers: Callers,
) -> None:
    """Its workflow terminated while it ran: the record ends, the caller's unusable token
    is answered as such, and every Watch of it ends."""
    worker, client = callers.platform.worker, callers.platform.client
    created = await worker.run_agent(
        "scripted",
        script(sleep=120),
        idempotency_key="k-untold",
        callback=pb.CallbackRef(task_token=b"\x00not-a-token", workflow_id="nobody"),
    )
    await wait_phase(callers.platform, created.execution.id, pb.IN_PROGRESS)
    temporal = await connect_temporal(callers.platform.settings)
    await temporal.get_workflow_handle(
        temporal_workflow_id(pb.AGENT_EXECUTION, created.execution.id)
    ).terminate(reason="gone")
    done = await asyncio.wait_for(client.wait(created.execution.id), WAIT)
    assert done.status.phase == pb.CANCELLED
    assert done.status.callback.outcome == pb.CALLBACK_TOKEN_INVALID


# ------------------------------------------------------------ fenced reports


async def test_reports_of_a_superseded_runner_attempt_are_refused(callers: Callers) -> None:
    worker, client = callers.platform.worker, callers.platform.client
    created = await client.run_agent("scripted", script(sleep=120))
    execution_id = created.execution.id
    await wait_phase(callers.platform, execution_id, pb.IN_PROGRESS)

    def said(text: str, attempt: int) -> pb.ProgressReport:
        return pb.ProgressReport(
            id=execution_id,
            attempt=attempt,
            append_messages=[pb.AgentMessage(role="assistant", content=text)],
        )

    await worker.report_progress(said("from attempt 7", 7))
    for late in (
        worker.report_progress(said("from attempt 6", 6)),
        worker.put_result(pb.PutResultRequest(id=execution_id, attempt=6, output="stale")),
        worker.record_ending(
            pb.EndingReport(id=execution_id, phase=pb.COMPLETED, output="stale", attempt=6)
        ),
    ):
        with pytest.raises(ApiError) as refused:
            await late
        assert refused.value.code == grpc.StatusCode.FAILED_PRECONDITION
        assert "superseded by attempt 7" in str(refused.value)
    found = await client.execution(execution_id)
    assert found.status.phase == pb.IN_PROGRESS and found.status.attempt == 7
    assert [m.content for m in found.status.messages if m.content.startswith("from")] == [
        "from attempt 7"
    ]
    await client.cancel(execution_id)


# --------------------------------------------------------------------- sizes


async def test_a_result_larger_than_a_grpc_default_message_is_kept_by_reference(
    callers: Callers,
) -> None:
    """5 MiB of result: over gRPC's 4 MiB default and over the size budget. The runner
    stores it apart, the caller gets the reference, GetResult the whole."""
    client = callers.platform.client
    big = "x" * (5 * 1024 * 1024)
    workflow_id = await callers.start(script(output="x", repeat=len(big)))
    result = await asyncio.wait_for(callers.result(workflow_id), WAIT)
    assert result.result_ref and result.output is None
    done = await client.execution(result.execution_id)
    assert done.status.phase == pb.COMPLETED and done.status.result_ref
    assert not done.status.output
    fetched = await client.result(result.execution_id)
    assert fetched.output == big


async def test_an_operator_complete_over_the_budget_is_kept_by_reference(
    callers: Callers,
) -> None:
    client = callers.platform.client
    created = await client.run_agent("scripted", script(sleep=120))
    await wait_phase(callers.platform, created.execution.id, pb.IN_PROGRESS)
    big = json.dumps({"rows": ["y" * 100] * 5000})
    done = await client.complete(created.execution.id, big, operator="test", reason="by hand")
    assert done.status.phase == pb.COMPLETED
    assert done.status.result_ref and not done.status.output
    assert (await client.result(done.id)).output == big
    # An ended execution's result never changes afterwards.
    with pytest.raises(ApiError) as refused:
        await callers.platform.worker.put_result(
            pb.PutResultRequest(id=done.id, output="rewritten")
        )
    assert refused.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert (await client.result(done.id)).output == big


# -------------------------------------------------------------- hostile values


async def test_deadlines_that_cannot_run_are_refused_naming_the_field(callers: Callers) -> None:
    client = callers.platform.client
    with pytest.raises(ApiError) as refused:
        await client.apply("agent", "hasty", {"model": "test", "deadline": -5})
    assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "deadline" in str(refused.value) and "positive" in str(refused.value)
    for seconds in (0, -1):
        call = pb.AgentCall(agent="scripted", message="hi")
        call.deadline.FromSeconds(seconds)
        with pytest.raises(ApiError) as refused:
            await client.create(pb.ExecutionSpec(kind=pb.AGENT_EXECUTION, agent=call))
        assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert str(refused.value).startswith("spec.agent.deadline")
    assert (await client.list_executions()).executions == []


# ------------------------------------------------------ what NOT_FOUND means


async def test_a_caller_answering_not_found_is_told_apart_as_told_gone_or_waiting(
    callers: Callers,
) -> None:
    """NOT_FOUND from a caller's token means one of three things, and the delivery records
    which: its activity was answered (an earlier try landed), it timed out (gone), or a
    retried attempt is on its way (waiting: deliver again)."""
    platform = callers.platform
    temporal = await connect_temporal(platform.settings)

    answered = await callers.start(script(output="fine"))
    await asyncio.wait_for(callers.result(answered), WAIT)
    call = await callers.execution_of(answered)
    assert await caller_fate(temporal, await platform.worker.callback_token(call.id)) == "told"

    await callers.agents.stop()  # nothing beats: the caller's attempts time out
    timed_out = await callers.start(script(sleep=60), heartbeat_seconds=2, attempts=1)
    lost = await callers.execution_of(timed_out)
    with pytest.raises(WorkflowFailureError):
        await asyncio.wait_for(callers.result(timed_out), WAIT)
    assert await caller_fate(temporal, await platform.worker.callback_token(lost.id)) == "gone"

    retrying = await callers.start(script(sleep=60), heartbeat_seconds=2, attempts=5)
    first = await callers.execution_of(retrying)
    first_token = await platform.worker.callback_token(first.id)

    async def retried() -> bool:
        return (await platform.worker.callback_token(first.id)).attempt > first_token.attempt

    await eventually(retried, seconds=WAIT)
    assert await caller_fate(temporal, first_token) == "waiting"
    await callers.agents.start()
    await temporal.get_workflow_handle(retrying).terminate(reason="done with it")
