"""The execution side of the handshake: telling the caller, through its token.

Two system activities: `deliver-callback` at the end of an execution (record the end,
then complete, fail or report cancellation, in one step so nothing waits between the end
and the caller's resumption) and `heartbeat-caller` while it runs. Both read the token
from the API at the moment they use it, so a caller attempt that rotated the token is the
one that hears back. What Temporal answers is recorded on the execution.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
import structlog
from temporalio import activity
from temporalio.client import AsyncActivityCancelledError, AsyncActivityHandle
from temporalio.client import Client as TemporalClient
from temporalio.service import RPCError, RPCStatusCode

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import ApiError, Client
from stigmer.contract.names import DELIVER_CALLBACK_ACTIVITY, HEARTBEAT_CALLER_ACTIVITY
from stigmer.handshake.ending import Ending, record_ending
from stigmer.handshake.outcome import call_result, outcome_error
from stigmer.handshake.tokens import token_preview
from stigmer.observability.metrics import observe_callback, outcome_label

log = structlog.get_logger("stigmer.handshake")

DELIVERY_ATTEMPTS = 5
"""Transient failures are retried this often; then the outcome is recorded as an error."""


@dataclass
class Delivery:
    execution_id: str
    caller_cancelled: bool = False
    """The caller asked for the cancellation: report it as such, not as a failure."""
    ending: Ending | None = None
    """The end to record first; None delivers the end already recorded."""


class DeliveryActivities:
    def __init__(self, api: Client, temporal: TemporalClient) -> None:
        self.api = api
        self.temporal = temporal

    @activity.defn(name=DELIVER_CALLBACK_ACTIVITY)
    async def deliver_callback(self, delivery: Delivery) -> str:
        """Record how the execution ended and tell its caller; returns the recorded outcome."""
        # The token is read alongside recording the end, not after it: one round trip
        # less between the end and the caller's resumption. A token rotated in between
        # is caught below: Temporal answers the stale one as gone, and the newer is used.
        execution_id = delivery.execution_id
        if delivery.ending is None:
            execution, token = await asyncio.gather(
                self.api.execution(execution_id), self._token(execution_id)
            )
        else:
            (execution, ours), token = await asyncio.gather(
                record_ending(self.api, delivery.ending), self._token(execution_id)
            )
            if not ours and execution.status.callback.outcome != pb.CALLBACK_WAITING:
                return outcome_label(execution.status.callback.outcome)  # told already
        rotations = 0
        while True:
            if token is None:
                return "no_caller"
            fields = {**callback_fields(execution.id, token), "phase": _phase(execution)}
            try:
                state = await tell_caller(
                    self.temporal, token.task_token, execution, delivery.caller_cancelled
                )
            except RPCError as exc:
                if activity.info().attempt >= DELIVERY_ATTEMPTS:
                    state = callback_state(pb.CALLBACK_ERROR, f"Temporal: {exc.message}")
                else:
                    log.warning("callback failed, retrying", error=exc.message, **fields)
                    raise
            if state.outcome == pb.CALLBACK_CALLER_GONE:
                newer = await self._token(execution_id)
                if newer is not None and newer.attempt != token.attempt and rotations < 3:
                    rotations += 1  # a retried caller took over while we were sending
                    token = newer
                    continue
                if activity.info().attempt > 1:
                    # An earlier try went unanswered: Temporal may have taken it all the same.
                    state.detail = (
                        f"after an unanswered earlier try (it may have landed): {state.detail}"
                    )
            await self.api.update_status(execution.id, pb.StatusPatch(callback=state))
            report_callback(execution, state, fields)
            return outcome_label(state.outcome)

    @activity.defn(name=HEARTBEAT_CALLER_ACTIVITY)
    async def heartbeat_caller(self, execution_id: str) -> str:
        """One heartbeat to the caller: `ok`, `cancel_requested`, `caller_gone`, `no_caller`."""
        token = await self._token(execution_id)
        if token is None:
            return "no_caller"
        fields = callback_fields(execution_id, token)
        try:
            await self._handle(token).heartbeat()
        except AsyncActivityCancelledError:
            log.info("caller asked to cancel", **fields)
            return "cancel_requested"
        except RPCError as exc:
            if exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
                log.info("heartbeat unanswered", error=exc.message, **fields)
                return "caller_gone"
            raise
        await self.api.update_status(execution_id, pb.StatusPatch(heartbeat_delivered=True))
        log.debug("heartbeat", **fields)
        return "ok"

    async def _token(self, execution_id: str) -> pb.CallbackToken | None:
        try:
            return await self.api.callback_token(execution_id)
        except ApiError as exc:
            if exc.code == grpc.StatusCode.NOT_FOUND:
                return None
            raise

    def _handle(self, token: pb.CallbackToken) -> AsyncActivityHandle:
        return self.temporal.get_async_activity_handle(task_token=token.task_token)


async def tell_caller(
    temporal: TemporalClient, task_token: bytes, execution: pb.Execution, caller_cancelled: bool
) -> pb.CallbackState:
    """Complete, fail or cancel the caller through its token; Temporal's final answer.

    Used by the deliver-callback activity and by operators finishing an execution by
    hand. A transient failure raises `RPCError`, for the caller of this to retry or record.
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
            return callback_state(pb.CALLBACK_CALLER_GONE, _caller_gone(exc))
        if exc.status == RPCStatusCode.INVALID_ARGUMENT:
            return callback_state(pb.CALLBACK_TOKEN_INVALID, f"Temporal: {exc.message}")
        raise
    return callback_state(pb.CALLBACK_DELIVERED)


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


def _phase(execution: pb.Execution) -> str:
    return pb.Phase.Name(execution.status.phase)


def _caller_gone(exc: RPCError) -> str:
    return f"the caller already finished or timed out (Temporal: {exc.message})"
