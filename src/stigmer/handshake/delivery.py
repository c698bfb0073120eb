"""Talking to a caller through its token, and what each answer of Temporal means.

Used by the execution's own system activities and by the API when it tells a caller
itself (an operator's action, a run that ended outside the engine).
"""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from temporalio.api.enums.v1 import PendingActivityState
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


async def caller_waiting(temporal: TemporalClient, callback: pb.CallbackToken) -> bool:
    """Whether a caller whose token answered NOT_FOUND will still ask: its workflow runs
    and its activity is pending again, a retried attempt on its way to rotate the token.

    A token answers NOT_FOUND between an attempt timing out and its retry taking over;
    that caller is not gone, and its execution must not be cancelled for it.
    """
    try:
        description = await temporal.get_workflow_handle(
            callback.workflow_id, run_id=callback.run_id or None
        ).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    if description.status != WorkflowExecutionStatus.RUNNING:
        return False
    for pending in description.raw_description.pending_activities:
        if pending.activity_id == callback.activity_id:
            return (
                pending.attempt > callback.attempt
                or pending.state == PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED
            )
    return False


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
