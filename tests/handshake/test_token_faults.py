"""The handshake under faults of the token and of the caller.

A bare caller workflow runs the platform's own call-agent activity with timeouts chosen
by the test, so that caller timeouts, retried attempts and dead executions can be made
to happen on purpose.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.testing import ActivityEnvironment

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.contract import problems
from stigmer.contract.inputs import Ending
from stigmer.handshake.system_activities import Delivery, SystemActivities
from stigmer.resources.executions import temporal_workflow_id
from stigmer.temporal import connect_temporal
from tests.handshake.helpers import Callers, eventually, script, wait_phase


async def test_caller_gone_before_the_agent_finished_is_final(callers: Callers) -> None:
    workflow_id = await callers.start(script(sleep=3, output="late"))
    execution = await callers.execution_of(workflow_id)
    await wait_phase(callers.platform, execution.id, pb.IN_PROGRESS)
    temporal = await connect_temporal(callers.platform.settings)
    await temporal.get_workflow_handle(workflow_id).terminate("the caller gave up")
    done = await callers.platform.client.wait(execution.id)
    assert done.status.phase == pb.COMPLETED
    assert done.status.callback.outcome == pb.CALLBACK_CALLER_GONE
    assert "already" in done.status.callback.detail


async def test_a_caller_with_less_time_than_the_agent_needs_hears_a_timeout_in_time(
    callers: Callers,
) -> None:
    """The execution's deadline is fitted inside the caller's own time (here its run timeout)."""
    workflow_id = await callers.start(script(sleep=30), run_timeout=timedelta(seconds=8))
    execution = await callers.execution_of(workflow_id)
    # Half of what the caller has left when it creates the execution: about 4 s.
    deadline = execution.spec.agent.deadline.ToTimedelta()
    assert timedelta(seconds=3.5) < deadline <= timedelta(seconds=4)
    with pytest.raises(WorkflowFailureError) as failure:
        await callers.result(workflow_id)
    error = failure.value.cause.cause  # type: ignore[union-attr]
    assert isinstance(error, ApplicationError) and error.type == problems.TIMEOUT
    done = await callers.platform.client.wait(execution.id)
    assert done.status.phase == pb.FAILED
    assert done.status.callback.outcome == pb.CALLBACK_DELIVERED


async def test_a_retried_attempt_reuses_the_execution_and_gets_the_result(
    callers: Callers,
) -> None:
    workflow_id = await callers.start(
        script(sleep=6, output="for attempt two"), heartbeat_seconds=2, attempts=3
    )
    execution = await callers.execution_of(workflow_id)
    await wait_phase(callers.platform, execution.id, pb.IN_PROGRESS)
    await callers.agents.stop()  # no heartbeats: the caller's first attempt times out

    async def second_attempt() -> bool:
        found = await callers.platform.client.execution(execution.id)
        return found.status.callback.attempt >= 2

    await eventually(second_attempt, seconds=20)
    await callers.agents.start()
    result = await callers.result(workflow_id)
    assert result.output == "for attempt two"
    assert result.execution_id == execution.id
    done = await callers.platform.client.execution(execution.id)
    assert done.status.callback.outcome == pb.CALLBACK_DELIVERED
    assert done.status.callback.attempt == 2
    await callers.execution_of(workflow_id)  # still exactly one execution


async def test_a_dead_execution_is_noticed_by_heartbeat_timeout(callers: Callers) -> None:
    workflow_id = await callers.start(script(sleep=60), heartbeat_seconds=2, attempts=3)
    execution = await callers.execution_of(workflow_id)
    await wait_phase(callers.platform, execution.id, pb.IN_PROGRESS)
    temporal = await connect_temporal(callers.platform.settings)
    await temporal.get_workflow_handle(
        temporal_workflow_id(pb.AGENT_EXECUTION, execution.id)
    ).terminate("simulated loss")
    with pytest.raises(WorkflowFailureError) as failure:
        await callers.result(workflow_id)
    error = failure.value.cause.cause  # type: ignore[union-attr]
    assert isinstance(error, ApplicationError) and error.type == problems.CANCELLED
    assert "terminated: simulated loss" in str(error)
    lost = await callers.platform.client.execution(execution.id)
    assert lost.status.phase == pb.CANCELLED
    assert lost.status.error.title == "Execution terminated"
    assert lost.status.callback.outcome == pb.CALLBACK_DELIVERED


async def test_a_corrupted_token_is_recorded_and_not_retried(callers: Callers) -> None:
    platform = callers.platform
    callback = pb.CallbackRef(task_token=b"\x00not-a-task-token\xff", workflow_id="nobody")
    created = await platform.worker.run_agent(
        "scripted", script(output="ok"), idempotency_key=f"k-{uuid.uuid4()}", callback=callback
    )
    done = await platform.client.wait(created.execution.id)
    assert done.status.phase == pb.COMPLETED
    assert done.status.callback.outcome == pb.CALLBACK_TOKEN_INVALID
    assert done.status.callback.detail.startswith("Temporal:")


async def test_finishing_twice_tells_the_caller_once(callers: Callers) -> None:
    """A finish that runs again (a worker replaying it) records nothing new and calls no one."""
    workflow_id = await callers.start(script(output="once"))
    result = await callers.result(workflow_id)
    assert result.output == "once"
    platform = callers.platform
    delivered = await platform.client.wait(result.execution_id)
    assert delivered.status.callback.outcome == pb.CALLBACK_DELIVERED

    system = SystemActivities(platform.worker, await connect_temporal(platform.settings))
    again = Delivery(Ending(result.execution_id, "FAILED", error={"type": "x"}), has_caller=True)
    finished = await ActivityEnvironment().run(system.deliver_callback, again)
    assert (finished.phase, finished.recorded, finished.outcome) == (
        "COMPLETED",
        False,
        "delivered",
    )
    after = await platform.client.execution(result.execution_id)
    assert after.status.callback.outcome == pb.CALLBACK_DELIVERED
    assert after.status.phase == pb.COMPLETED
    assert after.status.output == "once"
    assert after.revision == delivered.revision


async def test_a_cancelled_caller_is_heard_through_the_heartbeat(callers: Callers) -> None:
    """Without the engine's own cancel step, the heartbeat's answer still cancels."""
    workflow_id = await callers.start(script(sleep=60), heartbeat_seconds=3, wait_cancellation=True)
    execution = await callers.execution_of(workflow_id)
    await wait_phase(callers.platform, execution.id, pb.IN_PROGRESS)
    temporal = await connect_temporal(callers.platform.settings)
    await temporal.get_workflow_handle(workflow_id).cancel()
    done = await callers.platform.client.wait(execution.id)
    assert done.status.phase == pb.CANCELLED
    assert done.status.error.detail == "the caller was cancelled"
    assert done.status.callback.outcome == pb.CALLBACK_DELIVERED
    with pytest.raises(WorkflowFailureError) as failure:
        await callers.result(workflow_id)
    assert isinstance(failure.value.cause, CancelledError)
