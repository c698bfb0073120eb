"""What the handshake tests share: small builders, and a bare caller.

The bare caller runs the platform's own call-agent activity in a workflow whose
timeouts, retries and cancellation the test chooses, so that caller timeouts, retried
attempts, dead executions and gone callers can be made to happen on purpose.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import Client
from stigmer.contract.inputs import CallRequest, CallResult
from stigmer.contract.names import CALL_AGENT_ACTIVITY
from stigmer.resources.values import to_json
from stigmer.temporal import connect_temporal
from stigmer.workers import Workers
from tests.conftest import Platform

SCRIPTED = {"entrypoint": "stigmer.agents.scripted:agent"}


def script(**directives: Any) -> str:
    """A message telling the scripted agent what to do."""
    return json.dumps(directives)


def document(*tasks: dict[str, Any], name: str = "test") -> dict[str, Any]:
    return {
        "document": {"dsl": "1.0.0", "namespace": "test", "name": name, "version": "1.0.0"},
        "do": list(tasks),
    }


def agent_task(name: str, message: str, agent: str = "scripted", **extra: Any) -> dict[str, Any]:
    return {name: {"call": "agent", "with": {"agent": agent, "message": message, **extra}}}


def output_of(execution: pb.Execution) -> Any:
    return to_json(execution.status.structured)


async def children(client: Client, parent_id: str) -> list[pb.Execution]:
    return list((await client.list_executions(parent_execution_id=parent_id)).executions)


async def eventually(
    check: Callable[[], Awaitable[bool]], *, seconds: float = 30, every: float = 0.2
) -> None:
    """Wait until `check()` holds; fail with a clear message after `seconds`."""
    for _ in range(int(seconds / every)):
        if await check():
            return
        await asyncio.sleep(every)
    raise AssertionError(f"condition not met within {seconds}s")


async def one_child(client: Client, parent_id: str, seconds: float = 30) -> pb.Execution:
    """The single execution a run started, once it exists."""

    async def exists() -> bool:
        return len(await children(client, parent_id)) >= 1

    await eventually(exists, seconds=seconds)
    found = await children(client, parent_id)
    assert len(found) == 1, f"expected one execution, found {[e.id for e in found]}"
    return found[0]


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


async def wait_phase(platform: Platform, execution_id: str, phase: int) -> pb.Execution:
    async def reached() -> bool:
        return (await platform.client.execution(execution_id)).status.phase == phase

    await eventually(reached)
    return await platform.client.execution(execution_id)
