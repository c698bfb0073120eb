"""ExecutionService: create, read, watch and cancel executions; the workers' status reports."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import structlog
from google.protobuf import json_format
from google.protobuf.duration_pb2 import Duration
from temporalio.service import RPCError

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.api.v1 import stigmer_pb2_grpc as pb_grpc
from stigmer.config import Settings
from stigmer.contract import problems
from stigmer.contract.phases import TERMINAL
from stigmer.contract.temporal import TemporalUnreachableError
from stigmer.handshake.delivery import (
    callback_fields,
    callback_state,
    report_callback,
    tell_caller,
)
from stigmer.handshake.timeouts import MAX_DEADLINE, deadline_within
from stigmer.handshake.tokens import token_preview
from stigmer.observability.metrics import OPERATOR_ACTIONS, observe_usage
from stigmer.observability.stuck import find_stuck
from stigmer.resources.agent import AgentSpec
from stigmer.resources.executions import (
    KIND_NAMES,
    TransitionError,
    apply_patch,
    new_id,
    temporal_workflow_id,
)
from stigmer.resources.values import to_json
from stigmer.server.definitions import workflow_problems
from stigmer.server.errors import InvalidArgument, rpc, rpc_stream
from stigmer.server.launcher import Launcher
from stigmer.server.pages import cursor_of, page_size, page_token
from stigmer.store.database import NotFound
from stigmer.store.store import Store
from stigmer.store.tokens import StoredToken

Context = grpc.aio.ServicerContext[Any, Any]
log = structlog.get_logger("stigmer.server")

WATCH_POLL_SECONDS = 5.0
"""Writes made here wake watchers at once; they also re-read at this pace, to see writes
made by another API replica."""


class Changes:
    """Wakes the watchers of an execution when this process changed it."""

    def __init__(self) -> None:
        self._events: dict[str, set[asyncio.Event]] = defaultdict(set)

    def notify(self, execution_id: str) -> None:
        for event in self._events.get(execution_id, ()):
            event.set()

    async def wait(self, execution_id: str, seconds: float) -> None:
        """Until the execution changes here, or `seconds` pass."""
        event = asyncio.Event()
        self._events[execution_id].add(event)
        try:
            async with asyncio.timeout(seconds):
                await event.wait()
        except TimeoutError:
            pass
        finally:
            self._events[execution_id].discard(event)
            if not self._events[execution_id]:
                del self._events[execution_id]


def _duration(value: timedelta) -> Duration:
    message = Duration()
    message.FromTimedelta(value)
    return message


class ExecutionService(pb_grpc.ExecutionServiceServicer):
    def __init__(self, store: Store, launcher: Launcher, settings: Settings) -> None:
        self.store = store
        self.launcher = launcher
        self.settings = settings
        self.changes = Changes()

    # ------------------------------------------------------------------ create

    @rpc
    async def Create(
        self, request: pb.CreateExecutionRequest, context: Context
    ) -> pb.CreateExecutionResponse:
        spec = pb.ExecutionSpec()
        spec.CopyFrom(request.spec)
        document = await self._resolve(spec)
        _fit_deadline(spec, request.callback if request.HasField("callback") else None)
        execution = pb.Execution(id=new_id(spec.kind), spec=spec)
        status = execution.status
        status.phase = pb.PENDING
        status.created_at.GetCurrentTime()
        status.temporal_workflow_id = temporal_workflow_id(spec.kind, execution.id)
        token = self._callback(request, status)
        stored, created = await self.store.executions.create(execution, token)
        if created:
            log.info(
                "execution created",
                execution_id=stored.id,
                kind=KIND_NAMES[spec.kind],
                target=_target(spec),
                workflow_id=status.callback.workflow_id or None,
                activity_id=status.callback.activity_id or None,
                token_preview=status.callback.token_preview or None,
            )
        if stored.status.phase == pb.PENDING:
            await self._start(stored, document, created)
        elif not created and stored.status.phase not in TERMINAL:
            stored = await self._check_alive(stored)
        return pb.CreateExecutionResponse(execution=stored, created=created)

    async def _check_alive(self, execution: pb.Execution) -> pb.Execution:
        """A caller retrying after a heartbeat timeout: is anything still running it?"""
        if await self.launcher.running(execution):
            return execution
        patch = pb.StatusPatch(
            phase=pb.FAILED,
            error=pb.ExecutionError(
                type=problems.RUNTIME,
                status=500,
                title="Execution lost",
                detail=f"its workflow {execution.status.temporal_workflow_id} is no longer running",
            ),
        )
        found = await self.store.executions.update(
            execution.id, lambda status: _finish_if_open(status, patch)
        )
        self.changes.notify(execution.id)
        return found

    async def _resolve(self, spec: pb.ExecutionSpec) -> dict[str, Any] | None:
        """Check what was asked and pin the definition version; the DSL document to run."""
        if spec.kind == pb.EXECUTION_KIND_UNSPECIFIED:
            spec.kind = pb.AGENT_EXECUTION if spec.HasField("agent") else pb.WORKFLOW_EXECUTION
        if spec.kind == pb.AGENT_EXECUTION:
            if not spec.HasField("agent") or not spec.agent.agent:
                raise InvalidArgument("spec.agent.agent", "is required: the agent to run")
            agent = await self.store.definitions.get("AGENT", spec.agent.agent)
            spec.agent.agent_version = agent.version
            if not spec.agent.HasField("deadline"):
                agent_spec = AgentSpec.model_validate(to_json(agent.spec))
                spec.agent.deadline.CopyFrom(
                    _duration(agent_spec.deadline or self.settings.default_deadline)
                )
            return None
        if not spec.HasField("workflow"):
            raise InvalidArgument("spec.workflow", "is required: a workflow name or document")
        run = spec.workflow
        if run.workflow:
            workflow = await self.store.definitions.get("WORKFLOW", run.workflow)
            run.workflow_version = workflow.version
            return dict(to_json(workflow.spec))
        if not run.HasField("document"):
            raise InvalidArgument("spec.workflow.workflow", "is required (or an inline document)")
        document = dict(to_json(run.document))
        problems = workflow_problems(document)
        if problems:
            where, message = problems[0]
            raise InvalidArgument(f"spec.workflow.document{where.replace('/', '.')}", message)
        return document

    def _callback(
        self, request: pb.CreateExecutionRequest, status: pb.ExecutionStatus
    ) -> StoredToken | None:
        if not request.HasField("callback") or not request.callback.task_token:
            return None
        ref = request.callback
        if not request.spec.idempotency_key:
            raise InvalidArgument(
                "spec.idempotency_key",
                "is required with a callback, so retries find their execution",
            )
        state = status.callback
        state.namespace = ref.namespace or self.settings.temporal_namespace
        state.workflow_id = ref.workflow_id
        state.run_id = ref.run_id
        state.activity_id = ref.activity_id
        state.attempt = ref.attempt
        state.token_preview = token_preview(ref.task_token)
        state.outcome = pb.CALLBACK_WAITING
        if ref.HasField("heartbeat_timeout"):
            state.heartbeat_timeout.CopyFrom(ref.heartbeat_timeout)
        return StoredToken(ref.task_token, ref.attempt, state.namespace)

    async def _start(
        self, execution: pb.Execution, document: dict[str, Any] | None, created: bool
    ) -> None:
        try:
            if document is None and execution.spec.kind == pb.WORKFLOW_EXECUTION:
                document = await self._document(execution)
            await self.launcher.start(execution, document)
        except TemporalUnreachableError as exc:
            if created and not execution.spec.idempotency_key:
                # Nobody will retry this one: record why it never ran.
                await self._finish_unstarted(execution.id, str(exc))
            raise

    async def _document(self, execution: pb.Execution) -> dict[str, Any]:
        run = execution.spec.workflow
        if run.HasField("document"):
            return dict(to_json(run.document))
        workflow = await self.store.definitions.get("WORKFLOW", run.workflow, run.workflow_version)
        return dict(to_json(workflow.spec))

    async def _finish_unstarted(self, execution_id: str, reason: str) -> None:
        patch = pb.StatusPatch(
            phase=pb.FAILED,
            error=pb.ExecutionError(
                type=problems.UNAVAILABLE,
                status=503,
                title="Execution could not start",
                detail=reason,
            ),
        )
        await self.store.executions.update(execution_id, lambda status: apply_patch(status, patch))
        self.changes.notify(execution_id)

    # ------------------------------------------------------------------- reads

    @rpc
    async def Get(self, request: pb.GetExecutionRequest, context: Context) -> pb.Execution:
        return await self.store.executions.get(_required_id(request.id))

    @rpc
    async def List(
        self, request: pb.ListExecutionsRequest, context: Context
    ) -> pb.ListExecutionsResponse:
        size = page_size(request.page_size)
        found = await self.store.executions.find(
            kind=pb.ExecutionKind.Name(request.kind) if request.kind else None,
            phases=[pb.Phase.Name(phase) for phase in request.phases],
            target=request.target,
            parent_execution_id=request.parent_execution_id,
            idempotency_key=request.idempotency_key,
            limit=size,
            before_id=cursor_of(request.page_token),
        )
        token = page_token(found[-1].id) if len(found) == size else ""
        return pb.ListExecutionsResponse(executions=found, next_page_token=token)

    @rpc_stream
    async def Watch(
        self, request: pb.WatchExecutionRequest, context: Context
    ) -> AsyncIterator[pb.Execution]:
        execution_id = _required_id(request.id)
        seen = request.after_revision
        while True:
            execution = await self.store.executions.get(execution_id)
            if execution.revision > seen:
                seen = execution.revision
                yield execution
            if execution.status.phase in TERMINAL and _settled(execution):
                return
            await self.changes.wait(execution_id, WATCH_POLL_SECONDS)

    @rpc
    async def GetResult(self, request: pb.GetResultRequest, context: Context) -> pb.ExecutionResult:
        execution = await self.store.executions.get(_required_id(request.id))
        result = pb.ExecutionResult(
            id=execution.id, phase=execution.status.phase, output=execution.status.output
        )
        if execution.status.HasField("structured"):
            result.structured.CopyFrom(execution.status.structured)
        if execution.status.HasField("error"):
            result.error.CopyFrom(execution.status.error)
        if execution.status.result_ref:
            stored = await self.store.results.get(execution.id)
            if stored is not None:
                result.output = stored[0]
                if stored[1] is not None:
                    json_format.ParseDict(stored[1], result.structured)
        return result

    # ----------------------------------------------------------------- changes

    @rpc
    async def Cancel(self, request: pb.CancelExecutionRequest, context: Context) -> pb.Execution:
        execution_id = _required_id(request.id)
        execution = await self.store.executions.get(execution_id)
        if execution.status.phase in TERMINAL:
            return execution

        def mark(status: pb.ExecutionStatus) -> None:
            status.cancel_requested = True

        execution = await self.store.executions.update(execution_id, mark)
        self.changes.notify(execution_id)
        log.info("cancel requested", execution_id=execution_id, reason=request.reason or None)
        if not await self.launcher.cancel(execution):
            # No workflow runs for it (never started): nothing else will finish it.
            patch = pb.StatusPatch(
                phase=pb.CANCELLED,
                error=pb.ExecutionError(
                    type=problems.CANCELLED,
                    status=499,
                    title="Execution cancelled",
                    detail=request.reason or "cancelled before it started",
                ),
            )
            execution = await self.store.executions.update(
                execution_id, lambda status: _finish_if_open(status, patch)
            )
            self.changes.notify(execution_id)
        return execution

    @rpc
    async def UpdateStatus(self, request: pb.UpdateStatusRequest, context: Context) -> pb.Execution:
        execution_id = _required_id(request.id)
        patch = pb.StatusPatch()
        patch.CopyFrom(request.patch)
        await self._stash_large_result(execution_id, patch)
        usage_before = pb.Usage()

        def change(status: pb.ExecutionStatus) -> None:
            usage_before.CopyFrom(status.usage)
            apply_patch(status, patch)

        execution = await self.store.executions.update(
            execution_id, change, request.expected_revision
        )
        self.changes.notify(execution_id)
        if patch.phase in TERMINAL:  # a finished run listens no more
            await self.store.subscriptions.remove(execution.status.temporal_workflow_id)
        if patch.HasField("usage") and execution.spec.HasField("agent"):
            observe_usage(execution.spec.agent.agent, usage_before, execution.status.usage)
        return execution

    async def _stash_large_result(self, execution_id: str, patch: pb.StatusPatch) -> None:
        """A result over the size budget is kept apart and the status points at it."""
        structured = to_json(patch.structured) if patch.HasField("structured") else None
        size = len(patch.output.encode()) + len(json.dumps(structured).encode())
        if size <= self.settings.result_size_budget:
            return
        await self.store.results.put(execution_id, patch.output, structured)
        patch.output = ""
        patch.ClearField("structured")
        patch.result_ref = f"executions/{execution_id}/result"

    @rpc
    async def GetCallbackToken(
        self, request: pb.GetCallbackTokenRequest, context: Context
    ) -> pb.CallbackToken:
        execution_id = _required_id(request.id)
        token = await self.store.tokens.get(execution_id)
        if token is None:
            raise NotFound(f"execution {execution_id!r} has no caller to call back")
        callback = (await self.store.executions.get(execution_id)).status.callback
        return pb.CallbackToken(
            task_token=token.task_token,
            attempt=token.attempt,
            namespace=token.namespace,
            workflow_id=callback.workflow_id,
            activity_id=callback.activity_id,
        )

    # ------------------------------------------------------------- operators

    @rpc
    async def Complete(
        self, request: pb.CompleteExecutionRequest, context: Context
    ) -> pb.Execution:
        execution = await self.store.executions.get(_required_id(request.id))
        patch = pb.StatusPatch(phase=pb.COMPLETED, output=request.output)
        if execution.spec.kind == pb.WORKFLOW_EXECUTION:
            json_format.Parse(_json_text(request.output), patch.structured)
        note = f"completed by {request.operator or 'an operator'}"
        return await self._finish_by_hand(
            execution, patch, note, "complete", request.operator, request.reason
        )

    @rpc
    async def Fail(self, request: pb.FailExecutionRequest, context: Context) -> pb.Execution:
        if not request.reason:
            raise InvalidArgument("reason", "is required: it becomes the error's detail")
        execution = await self.store.executions.get(_required_id(request.id))
        patch = pb.StatusPatch(
            phase=pb.FAILED,
            error=pb.ExecutionError(
                type=problems.OPERATOR,
                status=500,
                title="Failed by an operator",
                detail=request.reason,
            ),
        )
        note = f"failed by {request.operator or 'an operator'}"
        return await self._finish_by_hand(
            execution, patch, note, "fail", request.operator, request.reason
        )

    async def _finish_by_hand(
        self,
        execution: pb.Execution,
        patch: pb.StatusPatch,
        note: str,
        action: str,
        operator: str,
        reason: str,
    ) -> pb.Execution:
        """Finish a stuck execution and tell its caller, with an audit record of who and why.

        A running workflow is terminated first, so it can neither record its own ending
        nor call back over the operator's. An execution that had already finished keeps
        its outcome; its caller, if not told yet, hears the operator's answer.
        """
        status = execution.status
        open_ = status.phase not in TERMINAL
        told = status.callback.outcome in (pb.CALLBACK_DELIVERED, pb.CALLBACK_CALLER_GONE)
        if not open_ and (told or not status.callback.workflow_id):
            raise TransitionError(
                f"execution is already {pb.Phase.Name(status.phase)} and has no caller "
                "waiting for it: there is nothing to finish"
            )
        audit = {"action": action, "operator": operator, "reason": reason}
        if open_:
            await self.launcher.terminate(execution, f"{note}: {reason}" if reason else note)
        message = pb.AgentMessage(
            role="system", content=f"{note}" + (f": {reason}" if reason else "")
        )
        json_format.ParseDict(audit, message.data)

        def record(current: pb.ExecutionStatus) -> None:
            if current.phase not in TERMINAL:
                apply_patch(current, patch)
            added = current.messages.add()  # the audit is kept even on a finished execution
            added.CopyFrom(message)
            added.at.GetCurrentTime()

        execution = await self.store.executions.update(execution.id, record)
        self.changes.notify(execution.id)
        OPERATOR_ACTIONS.labels(action).inc()
        log.warning(
            "execution finished by hand",
            execution_id=execution.id,
            phase=pb.Phase.Name(execution.status.phase),
            workflow_id=execution.status.callback.workflow_id or None,
            activity_id=execution.status.callback.activity_id or None,
            token_preview=execution.status.callback.token_preview or None,
            **audit,
        )
        return await self._call_back_by_hand(execution, patch)

    async def _call_back_by_hand(
        self, execution: pb.Execution, patch: pb.StatusPatch
    ) -> pb.Execution:
        token = await self.store.tokens.get(execution.id)
        if token is None or execution.status.callback.outcome in (
            pb.CALLBACK_DELIVERED,
            pb.CALLBACK_CALLER_GONE,
        ):
            return execution
        answer = pb.Execution()
        answer.CopyFrom(execution)
        if (
            execution.status.phase != patch.phase
        ):  # it had ended already: say what the operator says
            answer.status.ClearField("error")
            apply_patch_over(answer.status, patch)
        try:
            state = await tell_caller(
                await self.launcher.client(), token.task_token, answer, caller_cancelled=False
            )
        except RPCError as exc:
            state = callback_state(pb.CALLBACK_ERROR, f"Temporal: {exc.message}")
        execution = await self.store.executions.update(
            execution.id, lambda status: apply_patch(status, pb.StatusPatch(callback=state))
        )
        self.changes.notify(execution.id)
        wire = pb.CallbackToken(
            task_token=token.task_token,
            attempt=token.attempt,
            workflow_id=execution.status.callback.workflow_id,
            activity_id=execution.status.callback.activity_id,
        )
        report_callback(execution, state, {**callback_fields(execution.id, wire), "by": "operator"})
        return execution

    @rpc
    async def ListStuck(
        self, request: pb.ListStuckRequest, context: Context
    ) -> pb.ListStuckResponse:
        found = await find_stuck(self.store, datetime.now(UTC), self.settings.stuck_after)
        response = pb.ListStuckResponse(stuck_after=_duration(self.settings.stuck_after))
        for item in found:
            response.stuck.add(
                execution=item.execution, reason=item.reason, age=_duration(item.age)
            )
        return response


def _fit_deadline(spec: pb.ExecutionSpec, callback: pb.CallbackRef | None) -> None:
    """Give every execution a deadline that ends inside its caller's timeout."""
    holder = spec.agent if spec.kind == pb.AGENT_EXECUTION else spec.workflow
    requested = holder.deadline.ToTimedelta() if holder.HasField("deadline") else MAX_DEADLINE
    caller = (
        callback.caller_timeout.ToTimedelta()
        if callback is not None and callback.HasField("caller_timeout")
        else None
    )
    holder.deadline.FromTimedelta(deadline_within(requested, caller))


def _finish_if_open(status: pb.ExecutionStatus, patch: pb.StatusPatch) -> None:
    if status.phase not in TERMINAL:
        apply_patch(status, patch)


def _settled(execution: pb.Execution) -> bool:
    """Finished, and the callback (if any) has had its answer."""
    return execution.status.callback.outcome != pb.CALLBACK_WAITING


def _required_id(execution_id: str) -> str:
    if not execution_id:
        raise InvalidArgument("id", "is required")
    return execution_id


def _target(spec: pb.ExecutionSpec) -> str:
    return spec.agent.agent if spec.HasField("agent") else spec.workflow.workflow or "(inline)"


def apply_patch_over(status: pb.ExecutionStatus, patch: pb.StatusPatch) -> None:
    """The operator's answer over an ending already recorded, for telling the caller only."""
    status.phase = patch.phase
    if patch.HasField("output"):
        status.output = patch.output
    if patch.HasField("structured"):
        status.structured.CopyFrom(patch.structured)
    if patch.HasField("error"):
        status.error.CopyFrom(patch.error)


def _json_text(text: str) -> str:
    """An output given as JSON stays JSON; any other text becomes a JSON string."""
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return json.dumps(text)
    return text
