"""Starting, cancelling and asking after the Temporal workflow behind each execution.

Workflows are started by type name with the typed inputs of `stigmer.contract`, so the
API never imports engine or agent code. Starting is idempotent: the workflow id is derived
from the execution id and a duplicate start is the same execution, not a second one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryReverseRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.config import Settings, task_queue
from stigmer.contract import problems
from stigmer.contract.inputs import AgentExecutionInput, Ending, ExecutionPlan, WorkflowRunInput
from stigmer.contract.limits import MAX_DEADLINE, TEMPORAL_PAYLOAD_BYTES, OverLimit
from stigmer.contract.names import AGENT_EXECUTION_WORKFLOW, WORKFLOW_EXECUTION_WORKFLOW
from stigmer.handshake import timeouts
from stigmer.resources.executions import temporal_workflow_id
from stigmer.resources.values import to_json
from stigmer.sealing.codec import Unauthenticated, forgery
from stigmer.sealing.guard import report_forgery
from stigmer.temporal import connect_temporal

CLOSED_STATUSES = ("Completed", "Failed", "Canceled", "Terminated", "TimedOut")
"""How a run ends for good, as Temporal's visibility names it."""
SIZE_CAUSES = (
    "WorkflowTaskFailedCausePayloadsTooLarge",
    "WorkflowTaskFailedCauseGrpcMessageTooLarge",
)
"""The workflow task failures Temporal reports of a run whose payloads are over its limits."""
QUEUES = ("agents", "engine")
"""The queues whose workers run execution workflows."""
SIZE_REFUSAL = "size exceeds limit"
"""How Temporal says it refused a payload for its size ("Blob data size exceeds limit.")."""
PAYLOAD_LIMIT = "Temporal's payload limit"


@dataclass
class Fate:
    """How an execution's Temporal run stands, as far as recording its end goes."""

    exists: bool
    status_name: str = ""
    """RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED or TIMED_OUT."""
    reason: str = ""
    """Why a run stopped: a termination's reason, a failure's message."""
    ending: Ending | None = None
    """The ending the run returned or failed with, when it left one."""
    problem: problems.Problem | None = None
    """The problem a failed run carried, when it left no ending."""

    @property
    def running(self) -> bool:
        return self.status_name == "RUNNING"


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
        """Start the execution's workflow unless it already runs or ran; `OverLimit` when
        Temporal refuses its input (the document and input) for its size."""
        client = await self.client()
        spec = execution.spec
        prefix = self.settings.queue_prefix
        plan = plan_of(execution, self.settings)
        if spec.kind == pb.AGENT_EXECUTION:
            workflow, queue = AGENT_EXECUTION_WORKFLOW, task_queue("agents", prefix)
            argument: AgentExecutionInput | WorkflowRunInput = AgentExecutionInput(
                execution.id, plan
            )
        else:
            workflow, queue = WORKFLOW_EXECUTION_WORKFLOW, task_queue("engine", prefix)
            assert document is not None, "a workflow execution runs a document"
            argument = WorkflowRunInput(
                execution.id,
                document,
                to_json(spec.workflow.input) if spec.workflow.HasField("input") else None,
                plan,
            )
        try:
            await client.start_workflow(
                workflow,
                argument,
                id=temporal_workflow_id(spec.kind, execution.id),
                task_queue=queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            )
        except WorkflowAlreadyStartedError:
            pass
        except RPCError as exc:
            if exc.status != RPCStatusCode.INVALID_ARGUMENT or SIZE_REFUSAL not in exc.message:
                raise
            payloads = await client.data_converter.encode([argument])
            size = sum(payload.ByteSize() for payload in payloads)
            what = "its workflow's input (the document and its input)"
            raise OverLimit(what, size, TEMPORAL_PAYLOAD_BYTES, PAYLOAD_LIMIT) from exc

    async def signal(self, workflow_id: str, name: str, payload: Any) -> None:
        """Send a signal to a workflow; RPCError NOT_FOUND when it has ended."""
        await (await self.client()).get_workflow_handle(workflow_id).signal(name, payload)

    async def running(self, execution: pb.Execution) -> bool:
        return (await self._status(execution)) == WorkflowExecutionStatus.RUNNING

    async def cancel(self, execution: pb.Execution) -> bool:
        """Ask the execution's workflow to cancel; False when there is no running workflow."""
        if not await self.running(execution):
            return False
        try:
            await (await self._handle(execution)).cancel()
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
        try:
            await (await self._handle(execution)).terminate(reason=reason)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True

    async def fate(self, execution: pb.Execution) -> Fate:
        """Whether the execution's run is still going and, if not, how it ended."""
        client = await self.client()
        try:
            description = await (await self._handle(execution)).describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return Fate(exists=False)
            raise
        status = description.status
        name = status.name if status is not None else "RUNNING"
        if status in (None, WorkflowExecutionStatus.RUNNING):
            return Fate(exists=True, status_name="RUNNING")
        event = await self._close_event(client, description.id, description.run_id)
        fate = Fate(exists=True, status_name=name)
        if event is None:
            return fate
        if event.HasField("workflow_execution_completed_event_attributes"):
            payloads = event.workflow_execution_completed_event_attributes.result.payloads
            if payloads:
                found = await client.data_converter.decode(list(payloads), [Ending])
                fate.ending = found[0] if found and isinstance(found[0], Ending) else None
                if found and isinstance(found[0], Unauthenticated):
                    fate.problem = forgery("its workflow's result", found[0].reason)
        elif event.HasField("workflow_execution_failed_event_attributes"):
            failure = event.workflow_execution_failed_event_attributes.failure
            error = await client.data_converter.decode_failure(failure)
            fate.reason = str(error)
            fate.ending, fate.problem = _ending_of_failure(error)
        elif event.HasField("workflow_execution_terminated_event_attributes"):
            terminated = event.workflow_execution_terminated_event_attributes
            details = await client.data_converter.decode(list(terminated.details.payloads))
            sealed = [str(d) for d in details if not isinstance(d, Unauthenticated)]
            fate.reason = "; ".join(sealed) or terminated.reason
        if fate.ending is not None and fate.ending.execution_id != execution.id:
            fate.ending = None
            fate.problem = forgery("its workflow's ending", "it was sealed for another execution")
        if fate.problem is not None and fate.problem.type == problems.FORGERY:
            report_forgery("workflow-result", fate.problem.detail or "", execution_id=execution.id)
        return fate

    async def closed_since(self, since: datetime, limit: int) -> list[str]:
        """Workflow ids of this platform's executions whose run Temporal's visibility shows
        closed at `since` or later (a run continued as new goes on: it is not closed), at
        most `limit` of them."""
        return await self._listed(
            f"{self._own_executions()} AND ExecutionStatus IN ({_quoted(*CLOSED_STATUSES)}) "
            f"AND CloseTime >= '{since.isoformat()}'",
            limit,
        )

    async def stuck_on_size(self, limit: int) -> list[str]:
        """Workflow ids of this platform's running executions whose workflow tasks keep
        failing because what they send is over Temporal's size limits (Temporal reports
        it in `TemporalReportedProblems` after a few failed attempts): they can never go
        on. RPCError INVALID_ARGUMENT from a Temporal too old to report it."""
        causes = _quoted(*(f"cause={cause}" for cause in SIZE_CAUSES))
        return await self._listed(
            f"{self._own_executions()} AND ExecutionStatus = 'Running' "
            f"AND TemporalReportedProblems IN ({causes})",
            limit,
        )

    def _own_executions(self) -> str:
        """The visibility filter of this platform's execution workflows: its types on its
        queues (other platforms may share the namespace under another queue prefix)."""
        types = _quoted(AGENT_EXECUTION_WORKFLOW, WORKFLOW_EXECUTION_WORKFLOW)
        queues = _quoted(*(task_queue(kind, self.settings.queue_prefix) for kind in QUEUES))
        return f"WorkflowType IN ({types}) AND TaskQueue IN ({queues})"

    async def _listed(self, query: str, limit: int) -> list[str]:
        client = await self.client()
        return [found.id async for found in client.list_workflows(query, limit=limit)]

    async def _close_event(
        self, client: Client, workflow_id: str, run_id: str
    ) -> HistoryEvent | None:
        """The last event of a closed run: how it closed, without reading its whole history."""
        response = await client.workflow_service.get_workflow_execution_history_reverse(
            GetWorkflowExecutionHistoryReverseRequest(
                namespace=client.namespace,
                execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
                maximum_page_size=1,
            )
        )
        events = response.history.events
        return events[0] if events else None

    async def _status(self, execution: pb.Execution) -> WorkflowExecutionStatus | None:
        try:
            return (await (await self._handle(execution)).describe()).status
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return None
            raise

    async def _handle(self, execution: pb.Execution) -> WorkflowHandle[Any, Any]:
        return (await self.client()).get_workflow_handle(
            temporal_workflow_id(execution.spec.kind, execution.id)
        )


def _quoted(*values: str) -> str:
    """Values as a visibility query lists them: 'a', 'b'."""
    return ", ".join(f"'{value}'" for value in values)


def plan_of(execution: pb.Execution, settings: Settings) -> ExecutionPlan:
    """What the execution's workflow needs to know from the start: its deadline, whether a
    caller waits for it, and how often to tell that caller it is alive."""
    spec, callback = execution.spec, execution.status.callback
    deadline = (spec.agent if spec.HasField("agent") else spec.workflow).deadline
    interval = timeouts.heartbeat_interval(
        callback.heartbeat_timeout.ToTimedelta() if callback.HasField("heartbeat_timeout") else None
    )
    return ExecutionPlan(
        deadline_seconds=deadline.ToTimedelta().total_seconds() or MAX_DEADLINE.total_seconds(),
        has_caller=bool(callback.workflow_id),
        heartbeat_interval_seconds=interval.total_seconds(),
        history_budget=settings.engine_history_budget,
        runner_heartbeat_seconds=settings.runner_heartbeat_seconds,
    )


def _ending_of_failure(error: BaseException) -> tuple[Ending | None, problems.Problem | None]:
    """A failed execution workflow carries its Ending as the failure's first detail."""
    if isinstance(error, ApplicationError) and error.details:
        first = error.details[0]
        if isinstance(first, dict) and "phase" in first and "execution_id" in first:
            return Ending(**first), None
    return None, problems.from_failure(error)
