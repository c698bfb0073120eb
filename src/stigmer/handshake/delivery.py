"""Talking to a caller through its token, and what each answer of Temporal means.

Used by the execution's own system activities and by the API when it tells a caller
itself (an operator's action, a run that ended outside the engine).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import structlog
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryReverseRequest
from temporalio.client import Client as TemporalClient
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.handshake.outcome import call_result, outcome_error
from stigmer.handshake.tokens import token_preview
from stigmer.observability.metrics import observe_callback, outcome_label

log = structlog.get_logger("stigmer.handshake")


async def tell_caller(
    temporal: TemporalClient, task_token: bytes, execution: pb.Execution, caller_cancelled: bool
) -> pb.CallbackState:
    """Complete, fail or cancel the caller through its token; Temporal's final answer.

    A transient failure raises `RPCError`, for the caller of this to retry or record.
    """
    handle = temporal.get_async_activity_handle(task_token=task_token)
    try:
        if execution.status.phase == pb.CANCELLED and caller_cancelled:
            await handle.report_cancellation(execution.status.error.detail or "cancelled")
        else:
            error = outcome_error(execution)
            if error is None:
                await handle.complete(call_result(execution))
            else:
                await handle.fail(error)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return callback_state(pb.CALLBACK_CALLER_GONE, caller_gone(exc))
        if exc.status == RPCStatusCode.INVALID_ARGUMENT:
            return callback_state(pb.CALLBACK_TOKEN_INVALID, f"Temporal: {exc.message}")
        raise
    return callback_state(pb.CALLBACK_DELIVERED)


CallerFate = Literal["waiting", "told", "gone"]
HISTORY_SCAN = 5000
"""Events of a caller's history read, newest first, to find how its activity ended."""


async def caller_fate(temporal: TemporalClient, callback: pb.CallbackToken) -> CallerFate:
    """What became of a caller whose token answered NOT_FOUND.

    `waiting`: its workflow runs and its activity is pending again, a retried attempt on
    its way to rotate the token (a token answers NOT_FOUND between an attempt timing out
    and its retry taking over): it must not be taken for gone. `told`: its activity
    ended completed, failed or cancelled, which only an answer through the token (or an
    attempt that took the recorded end itself) does: an earlier try landed. `gone`: its
    activity timed out, or its workflow ended or is no more.
    """
    try:
        handle = temporal.get_workflow_handle(callback.workflow_id, run_id=callback.run_id or None)
        description = await handle.describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return "gone"
        raise
    if description.status == WorkflowExecutionStatus.RUNNING:
        for pending in description.raw_description.pending_activities:
            if pending.activity_id == callback.activity_id:
                return "waiting"
    return await _how_the_activity_ended(temporal, description.id, description.run_id, callback)


async def _how_the_activity_ended(
    temporal: TemporalClient, workflow_id: str, run_id: str, callback: pb.CallbackToken
) -> CallerFate:
    closed: dict[int, bool] = {}
    """Scheduled event id -> whether its activity was answered (not timed out)."""
    token = b""
    seen = 0
    while seen < HISTORY_SCAN:
        page = await temporal.workflow_service.get_workflow_execution_history_reverse(
            GetWorkflowExecutionHistoryReverseRequest(
                namespace=temporal.namespace,
                execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
                maximum_page_size=1000,
                next_page_token=token,
            )
        )
        for event in page.history.events:
            seen += 1
            answered = _answered(event)
            if answered is not None:
                closed.setdefault(answered[0], answered[1])
            elif event.HasField("activity_task_scheduled_event_attributes"):
                attributes = event.activity_task_scheduled_event_attributes
                if attributes.activity_id == callback.activity_id:
                    return "told" if closed.get(event.event_id) else "gone"
        token = page.next_page_token
        if not token:
            break
    return "gone"


_ACTIVITY_ENDINGS = {
    "activity_task_completed_event_attributes": True,
    "activity_task_failed_event_attributes": True,
    "activity_task_canceled_event_attributes": True,
    "activity_task_timed_out_event_attributes": False,
}
"""The events that close an activity, and whether the activity was answered by them."""


def _answered(event: HistoryEvent) -> tuple[int, bool] | None:
    """(scheduled event id, answered) of an event that closes an activity."""
    which = event.WhichOneof("attributes")
    if which not in _ACTIVITY_ENDINGS:
        return None
    scheduled: int = getattr(event, which).scheduled_event_id
    return scheduled, _ACTIVITY_ENDINGS[which]


def callback_state(outcome: pb.CallbackOutcome.ValueType, detail: str = "") -> pb.CallbackState:
    """The answer to record on the execution, stamped now."""
    state = pb.CallbackState(outcome=outcome, detail=detail)
    state.delivered_at.FromDatetime(datetime.now(UTC))
    return state


def report_callback(
    execution: pb.Execution, state: pb.CallbackState, fields: dict[str, object]
) -> None:
    """The log event and metrics of a recorded callback answer."""
    observe_callback(execution, state)
    if state.outcome == pb.CALLBACK_DELIVERED:
        log.info("callback delivered", **fields)
    else:
        log.warning(
            "callback not delivered",
            outcome=outcome_label(state.outcome),
            detail=state.detail,
            **fields,
        )


def callback_fields(execution_id: str, token: pb.CallbackToken) -> dict[str, object]:
    """What every hand-off log event carries: whose call, which attempt, which token."""
    return {
        "execution_id": execution_id,
        "workflow_id": token.workflow_id,
        "activity_id": token.activity_id,
        "attempt": token.attempt,
        "token_preview": token_preview(token.task_token),
    }


def caller_gone(exc: RPCError) -> str:
    return f"the caller already finished or timed out (Temporal: {exc.message})"
