"""What clients may do to an execution besides reading it: cancel it, or finish it by hand.

Every action is audited: who asked, why and when is kept on the execution as a system
message, counted, and logged. Who asked is the caller's credential and address as the API
checked them (`Access.caller`); what the request says about who sent it is kept beside,
as a claim (`claimed_operator`), since any client may write anything there. The caller of the execution is told, exactly once, by the
execution's own workflow when one is running and by the API when none is.
"""

from __future__ import annotations

import json

import structlog
from google.protobuf import json_format

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.config import Settings
from stigmer.contract import problems
from stigmer.observability.metrics import OPERATOR_ACTIONS
from stigmer.resources.executions import (
    TOLD,
    TransitionError,
    end,
    has_ended,
    note,
    request_cancel,
)
from stigmer.server.callbacks import Callbacks
from stigmer.server.large_results import split_large
from stigmer.server.launcher import Launcher
from stigmer.server.reconciler import Reconciler
from stigmer.server.recorder import Recorder
from stigmer.store.store import Store

log = structlog.get_logger("stigmer.server")


class Operators:
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

    async def cancel(
        self, execution_id: str, reason: str, operator: str, claim: str = ""
    ) -> pb.Execution:
        """Cancel in any phase: its workflow stops the work, records and tells the caller;
        with no workflow running, the API ends it and tells the caller itself."""
        execution = await self.store.executions.get(execution_id)
        if has_ended(execution.status):
            return execution
        audit = _audit("cancel", operator, reason, claim)
        message = _audit_message("cancel requested", audit)
        execution = await self.recorder.update(
            execution_id, lambda status: request_cancel(status, message)
        )
        OPERATOR_ACTIONS.labels("cancel").inc()
        log.info("cancel requested", execution_id=execution_id, **audit)
        if await self.launcher.cancel(execution):
            return execution
        fate = await self.launcher.fate(execution)
        if fate.exists:
            # Its run ended already, without recording: record what Temporal knows.
            return await self.reconciler.reconcile(execution)
        report = pb.EndingReport(
            id=execution_id,
            phase=pb.CANCELLED,
            error=pb.ExecutionError(
                type=problems.CANCELLED,
                status=499,
                title="Execution cancelled",
                detail=reason or "cancelled before it started",
            ),
        )
        execution = await self.recorder.update(execution_id, lambda status: end(status, report))
        return await self.callbacks.answer(execution, by="cancel")

    async def complete(
        self, execution_id: str, output: str, operator: str, reason: str, claim: str = ""
    ) -> pb.Execution:
        execution = await self.store.executions.get(execution_id)
        report = pb.EndingReport(id=execution_id, phase=pb.COMPLETED)
        if execution.spec.kind == pb.WORKFLOW_EXECUTION:
            json_format.Parse(_json_text(output), report.structured)
        else:
            report.output = output
        audit = _audit("complete", operator, reason, claim)
        return await self._finish_by_hand(execution, report, audit)

    async def fail(
        self, execution_id: str, reason: str, operator: str, claim: str = ""
    ) -> pb.Execution:
        execution = await self.store.executions.get(execution_id)
        report = pb.EndingReport(
            id=execution_id,
            phase=pb.FAILED,
            error=pb.ExecutionError(
                type=problems.OPERATOR, status=500, title="Failed by an operator", detail=reason
            ),
        )
        return await self._finish_by_hand(
            execution, report, _audit("fail", operator, reason, claim)
        )

    async def _finish_by_hand(
        self, execution: pb.Execution, report: pb.EndingReport, audit: dict[str, str]
    ) -> pb.Execution:
        """Finish a stuck execution and tell its caller, with an audit record of who and why.

        A running workflow is terminated first, so it can neither record its own ending
        nor call back over the operator's. An execution that had already ended keeps its
        outcome; its caller, if not told yet, hears the operator's answer.
        """
        status = execution.status
        ended = has_ended(status)
        if ended and (status.callback.outcome in TOLD or not status.callback.workflow_id):
            raise TransitionError(
                f"execution is already {pb.Phase.Name(status.phase)} and has no caller "
                "waiting for it: there is nothing to finish"
            )
        told = _told_view(execution, report) if ended else None
        stored = split_large(report, self.settings.result_size_budget)
        action = audit["action"]
        message = _audit_message("completed" if action == "complete" else "failed", audit)
        if not ended:
            await self.launcher.terminate(execution, message.content)

        def record(current: pb.ExecutionStatus) -> None:
            end(current, report)
            note(current, message)  # the audit is kept even on an execution that had ended

        execution = await self.recorder.update(execution.id, record, result=stored)
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
        return await self.callbacks.answer(execution, by="operator", told=told)


def _told_view(execution: pb.Execution, report: pb.EndingReport) -> pb.Execution:
    """What the caller of an execution that had ended hears: what the operator says."""
    told = pb.Execution()
    told.CopyFrom(execution)
    status = told.status
    status.phase = report.phase
    status.ClearField("error")
    status.ClearField("structured")
    status.result_ref = ""
    if report.HasField("error"):
        status.error.CopyFrom(report.error)
    status.output = report.output
    if report.HasField("structured"):
        status.structured.CopyFrom(report.structured)
    return told


def _audit(action: str, operator: str, reason: str, claim: str) -> dict[str, str]:
    """Who (as the API checked them), what and why; what the request claimed, apart."""
    audit = {"action": action, "operator": operator, "reason": reason}
    if claim:
        audit["claimed_operator"] = claim
    return audit


def _audit_message(done: str, audit: dict[str, str]) -> pb.AgentMessage:
    claim = audit.get("claimed_operator")
    summary = f"{done} by {audit['operator']}" + (
        f" (claimed: {json.dumps(claim)})" if claim else ""
    )
    reason = audit["reason"]
    message = pb.AgentMessage(role="system", content=summary + (f": {reason}" if reason else ""))
    json_format.ParseDict(audit, message.data)
    return message


def _json_text(text: str) -> str:
    """An output given as JSON stays JSON; any other text becomes a JSON string."""
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return json.dumps(text)
    return text
