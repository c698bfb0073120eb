"""Starting and cancelling the Temporal workflow behind each execution.

Workflows are started by type name with the typed inputs of `stigmer.contract`, so the
API never imports engine or agent code. Starting is idempotent: the workflow id is derived
from the execution id and a duplicate start is the same execution, not a second one.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.config import Settings, task_queue
from stigmer.contract.inputs import AgentExecutionInput, WorkflowRunInput
from stigmer.contract.names import AGENT_EXECUTION_WORKFLOW, WORKFLOW_EXECUTION_WORKFLOW
from stigmer.contract.temporal import connect_temporal
from stigmer.resources.executions import temporal_workflow_id
from stigmer.resources.values import to_json


class Launcher:
    """Holds one Temporal client, connecting on first use so the API can start first."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        async with self._lock:
            if self._client is None:
                self._client = await connect_temporal(self.settings, connect_timeout=5)
            return self._client

    async def start(self, execution: pb.Execution, document: dict[str, Any] | None) -> None:
        """Start the execution's workflow unless it already runs or ran."""
        client = await self.client()
        spec = execution.spec
        prefix = self.settings.queue_prefix
        if spec.kind == pb.AGENT_EXECUTION:
            workflow, queue = AGENT_EXECUTION_WORKFLOW, task_queue("agents", prefix)
            argument: AgentExecutionInput | WorkflowRunInput = AgentExecutionInput(execution.id)
        else:
            workflow, queue = WORKFLOW_EXECUTION_WORKFLOW, task_queue("engine", prefix)
            assert document is not None, "a workflow execution runs a document"
            argument = WorkflowRunInput(
                execution.id,
                document,
                to_json(spec.workflow.input) if spec.workflow.HasField("input") else None,
            )
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await client.start_workflow(
                workflow,
                argument,
                id=temporal_workflow_id(spec.kind, execution.id),
                task_queue=queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            )

    async def signal(self, workflow_id: str, name: str, payload: Any) -> None:
        """Send a signal to a workflow; RPCError NOT_FOUND when it has ended."""
        await (await self.client()).get_workflow_handle(workflow_id).signal(name, payload)

    async def running(self, execution: pb.Execution) -> bool:
        handle = (await self.client()).get_workflow_handle(
            temporal_workflow_id(execution.spec.kind, execution.id)
        )
        try:
            description = await handle.describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return description.status == WorkflowExecutionStatus.RUNNING

    async def cancel(self, execution: pb.Execution) -> bool:
        """Ask the execution's workflow to cancel; False when there is no running workflow."""
        if not await self.running(execution):
            return False
        client = await self.client()
        handle = client.get_workflow_handle(temporal_workflow_id(execution.spec.kind, execution.id))
        try:
            await handle.cancel()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True

    async def terminate(self, execution: pb.Execution, reason: str) -> bool:
        """End the execution's workflow at once; False when none was running.

        For operators finishing an execution by hand: a cancelled workflow would record
        its own ending and call back, racing the operator's.
        """
        if not await self.running(execution):
            return False
        client = await self.client()
        handle = client.get_workflow_handle(temporal_workflow_id(execution.spec.kind, execution.id))
        try:
            await handle.terminate(reason)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True
