"""The handshake under faults of the token and of the caller.

A bare caller workflow runs the platform's own call-agent activity with timeouts chosen
by the test, so that caller timeouts, retried attempts and dead executions can be made
to happen on purpose.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Worker

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.contract import problems
from stigmer.contract.inputs import CallRequest, CallResult
from stigmer.contract.names import CALL_AGENT_ACTIVITY
from stigmer.contract.temporal import connect_temporal
from stigmer.handshake.caller import CallerActivities
from stigmer.handshake.delivery import Delivery, DeliveryActivities
from stigmer.local.embedded import EmbeddedTemporal
from stigmer.resources.executions import temporal_workflow_id
from stigmer.workers import Workers, sandbox
from tests.conftest import Platform, running_platform
from tests.handshake.helpers import SCRIPTED, eventually, script


@dataclass
class RawCall:
    request: CallRequest
    start_to_close_seconds: float = 300
    heartbeat_seconds: float = 60
    attempts: int = 1
    wait_cancellation: bool = False


@workflow.defn(name="stigmer-test/raw-caller", sandboxed=False)
class RawCaller:
    @workflow.run
    async def run(self, call: RawCall) -> CallResult:
        result: CallResult = await workflow.execute_activity(
            CALL_AGENT_ACTIVITY,
            call.request,
            task_queue=workflow.info().task_queue,
            start_to_close_timeout=timedelta(seconds=call.start_to_close_seconds),
            heartbeat_timeout=timedelta(seconds=call.heartbeat_seconds),
            retry_policy=RetryPolicy(
                maximum_attempts=call.attempts, initial_interval=timedelta(milliseconds=200)
            ),
            result_type=CallResult,
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
            if call.wait_cancellation
            else workflow.ActivityCancellationType.TRY_CANCEL,
        )
        return result


@dataclass
class Callers:
    """A platform whose agents-queue worker the test can stop, and a raw-caller queue."""

    platform: Platform
    queue: str
    agents: Workers

    async def start(
        self, message: str, run_timeout: timedelta | None = None, **options: float | bool
    ) -> str:
        temporal = await connect_temporal(self.platform.settings)
        workflow_id = f"raw-caller/{uuid.uuid4()}"
        await temporal.start_workflow(
            RawCaller.run,
            RawCall(CallRequest(kind="agent", target="scripted", message=message), **options),  # type: ignore[arg-type]
            id=workflow_id,
            task_queue=self.queue,
            execution_timeout=run_timeout,
        )
        return workflow_id

    async def execution_of(self, workflow_id: str) -> pb.Execution:
        client = self.platform.client

        async def created() -> bool:
            found = await client.list_executions(kind="AGENT_EXECUTION")
            return any(e.status.callback.workflow_id == workflow_id for e in found.executions)

        await eventually(created)
        found = await client.list_executions(kind="AGENT_EXECUTION")
        matching = [e for e in found.executions if e.status.callback.workflow_id == workflow_id]
        assert len(matching) == 1, "one call must make exactly one execution"
        return matching[0]

    async def result(self, workflow_id: str) -> CallResult:
        temporal = await connect_temporal(self.platform.settings)
        handle = temporal.get_workflow_handle(workflow_id, result_type=CallResult)
        return await handle.result()


@pytest.fixture
async def callers(temporal_server: EmbeddedTemporal, tmp_path: Path) -> AsyncIterator[Callers]:
    async with running_platform(
        temporal_server, tmp_path / "data", queues=["engine", "runner"]
    ) as platform:
        agents = Workers(platform.settings, ["agents"])
        await agents.start()
        temporal = await connect_temporal(platform.settings)
        queue = f"{platform.settings.queue_prefix}raw-stigmer-engine"
        caller = CallerActivities(platform.client)
        await platform.client.apply("agent", "scripted", SCRIPTED)
        async with Worker(
            temporal,
            task_queue=queue,
            workflows=[RawCaller],
            activities=[caller.call_agent],
            workflow_runner=sandbox(),
        ):
            yield Callers(platform, queue, agents)
        await agents.stop()


async def wait_phase(platform: Platform, execution_id: str, phase: int) -> pb.Execution:
    async def reached() -> bool:
        return (await platform.client.execution(execution_id)).status.phase == phase

    await eventually(reached)
    return await platform.client.execution(execution_id)


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
    assert execution.spec.agent.deadline.ToTimedelta() == timedelta(seconds=4)
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
    assert "no longer running" in str(failure.value.cause.cause)  # type: ignore[union-attr]
    lost = await callers.platform.client.execution(execution.id)
    assert lost.status.phase == pb.FAILED
    assert lost.status.error.title == "Execution lost"


async def test_a_corrupted_token_is_recorded_and_not_retried(callers: Callers) -> None:
    platform = callers.platform
    callback = pb.CallbackRef(task_token=b"\x00not-a-task-token\xff", workflow_id="nobody")
    created = await platform.client.run_agent(
        "scripted", script(output="ok"), idempotency_key=f"k-{uuid.uuid4()}", callback=callback
    )
    done = await platform.client.wait(created.execution.id)
    assert done.status.phase == pb.COMPLETED
    assert done.status.callback.outcome == pb.CALLBACK_TOKEN_INVALID
    assert done.status.callback.detail.startswith("Temporal:")


async def test_completing_twice_reports_the_caller_gone(callers: Callers) -> None:
    workflow_id = await callers.start(script(output="once"))
    result = await callers.result(workflow_id)
    assert result.output == "once"
    platform = callers.platform
    delivered = await platform.client.wait(result.execution_id)
    assert delivered.status.callback.outcome == pb.CALLBACK_DELIVERED

    delivery = DeliveryActivities(platform.client, await connect_temporal(platform.settings))
    outcome = await ActivityEnvironment().run(
        delivery.deliver_callback, Delivery(result.execution_id)
    )
    assert outcome == "caller_gone"
    again = await platform.client.execution(result.execution_id)
    assert again.status.callback.outcome == pb.CALLBACK_CALLER_GONE
    assert again.status.phase == pb.COMPLETED
    assert again.status.output == "once"


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
