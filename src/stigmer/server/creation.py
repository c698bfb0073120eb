"""Creating an execution: check what was asked, pin its version, store it, start it.

Creation is idempotent on the spec's idempotency key, enforced by the database: a caller
that retries finds the execution it already made (rotating the stored token to its newer
attempt), and a caller arriving after the end takes the recorded result at once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
from google.protobuf.duration_pb2 import Duration

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.config import Settings
from stigmer.contract import problems
from stigmer.contract.limits import MAX_DEADLINE, OverLimit
from stigmer.handshake.timeouts import deadline_within
from stigmer.handshake.tokens import token_preview
from stigmer.resources.agent import AgentSpec
from stigmer.resources.executions import (
    KIND_NAMES,
    end,
    has_ended,
    is_later_caller,
    new_id,
    temporal_workflow_id,
)
from stigmer.resources.values import to_json
from stigmer.server.callbacks import Callbacks
from stigmer.server.definitions import document_of, workflow_problems
from stigmer.server.errors import InvalidArgument
from stigmer.server.launcher import Launcher
from stigmer.server.reconciler import Reconciler
from stigmer.server.recorder import Recorder
from stigmer.store.store import Store
from stigmer.store.tokens import StoredToken
from stigmer.temporal import TemporalUnreachableError

log = structlog.get_logger("stigmer.server")


class Creation:
    def __init__(
        self,
        store: Store,
        launcher: Launcher,
        settings: Settings,
        recorder: Recorder,
        callbacks: Callbacks,
        reconciler: Reconciler,
    ) -> None:
        self.store = store
        self.launcher = launcher
        self.settings = settings
        self.recorder = recorder
        self.callbacks = callbacks
        self.reconciler = reconciler

    async def create(self, request: pb.CreateExecutionRequest) -> pb.CreateExecutionResponse:
        spec = pb.ExecutionSpec()
        spec.CopyFrom(request.spec)
        document = await self._resolve(spec)
        callback = request.callback if request.HasField("callback") else None
        _fit_deadline(spec, callback)
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
        if stored.status.phase == pb.PENDING and not stored.status.cancel_requested:
            stored = await self._start(stored, document, created)
        elif not created and has_ended(stored.status):
            if token is not None and is_later_caller(status.callback, stored.status.callback):
                stored = await self.callbacks.taken_by_retry(stored, status.callback)
        elif not created:
            # A caller retrying after a heartbeat timeout: is anything still running it?
            stored = await self.reconciler.reconcile(stored)
        return pb.CreateExecutionResponse(execution=stored, created=created)

    async def _resolve(self, spec: pb.ExecutionSpec) -> dict[str, Any] | None:
        """Check what was asked and pin the definition version; the DSL document to run."""
        if spec.kind == pb.EXECUTION_KIND_UNSPECIFIED:
            spec.kind = pb.AGENT_EXECUTION if spec.HasField("agent") else pb.WORKFLOW_EXECUTION
        if spec.kind == pb.AGENT_EXECUTION:
            if not spec.HasField("agent") or not spec.agent.agent:
                raise InvalidArgument("spec.agent.agent", "is required: the agent to run")
            _check_deadline("spec.agent.deadline", spec.agent)
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
        _check_deadline("spec.workflow.deadline", run)
        if run.workflow:
            workflow = await self.store.definitions.get("WORKFLOW", run.workflow)
            run.workflow_version = workflow.version
            return dict(to_json(workflow.spec))
        if not run.HasField("document"):
            raise InvalidArgument("spec.workflow.workflow", "is required (or an inline document)")
        document = dict(to_json(run.document))
        found = workflow_problems(document)
        if found:
            where, message = found[0]
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
        state.handover = ref.handover
        state.handover_reason = ref.handover_reason
        state.token_preview = token_preview(ref.task_token)
        state.outcome = pb.CALLBACK_WAITING
        if ref.HasField("heartbeat_timeout"):
            state.heartbeat_timeout.CopyFrom(ref.heartbeat_timeout)
        return StoredToken(ref.task_token, ref.attempt, state.namespace)

    async def _start(
        self, execution: pb.Execution, document: dict[str, Any] | None, created: bool
    ) -> pb.Execution:
        """Start the execution's workflow; the execution as it stands then (FAILED
        `too-large` at once when Temporal refuses its input for its size: retrying, or
        the caller's next attempt, could only be refused again)."""
        try:
            if document is None and execution.spec.kind == pb.WORKFLOW_EXECUTION:
                document = await document_of(self.store, execution)
            await self.launcher.start(execution, document)
        except TemporalUnreachableError as exc:
            if created and not execution.spec.idempotency_key:
                # Nobody will retry this one: record why it never ran.
                problem = problems.Problem.of(
                    problems.UNAVAILABLE, str(exc), title="Execution could not start"
                )
                await self._finish_unstarted(execution.id, problem)
            raise
        except OverLimit as exc:
            log.error("execution refused for its size", execution_id=execution.id, error=str(exc))
            return await self._finish_unstarted(execution.id, problems.too_large(str(exc)))
        return execution

    async def _finish_unstarted(self, execution_id: str, problem: problems.Problem) -> pb.Execution:
        report = pb.EndingReport(
            id=execution_id, phase=pb.FAILED, error=pb.ExecutionError(**problem.to_dict())
        )
        return await self.recorder.update(execution_id, lambda status: end(status, report))


def _duration(value: timedelta) -> Duration:
    message = Duration()
    message.FromTimedelta(value)
    return message


def _check_deadline(field: str, holder: pb.AgentCall | pb.WorkflowRun) -> None:
    if holder.HasField("deadline") and holder.deadline.ToTimedelta() <= timedelta(0):
        raise InvalidArgument(field, "must be a positive duration")


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


def _target(spec: pb.ExecutionSpec) -> str:
    return spec.agent.agent if spec.HasField("agent") else spec.workflow.workflow or "(inline)"
