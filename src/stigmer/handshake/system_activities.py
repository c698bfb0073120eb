"""The system activities of an execution's workflow: begin, finish, and heartbeat its caller.

`begin` marks the execution IN_PROGRESS (or learns it must not run). `finish` records how
it ended and tells its caller, in one step so nothing waits between the end and the
caller's resumption; the token comes back with the recorded end, read at that moment, so
a caller attempt that rotated it is the one that hears back. `heartbeat-caller` tells the caller the
execution is alive and hears whether it wants a cancel or is gone. Each is retried on
transient failures (the API or Temporal unreachable) by the workflow, within a bounded
window; a refusal is final.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

import grpc
import structlog
from temporalio import activity
from temporalio.client import AsyncActivityCancelledError, AsyncActivityHandle
from temporalio.client import Client as TemporalClient
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.api_failures import REFUSALS, ApiError, persistently
from stigmer.client import WorkerClient
from stigmer.contract.inputs import Ending
from stigmer.contract.names import (
    BEGIN_ACTIVITY,
    DELIVER_CALLBACK_ACTIVITY,
    FINISH_ACTIVITY,
    HEARTBEAT_CALLER_ACTIVITY,
)
from stigmer.handshake.delivery import (
    callback_fields,
    callback_state,
    caller_fate,
    report_callback,
    tell_caller,
)
from stigmer.handshake.ending import report_of
from stigmer.observability.metrics import outcome_label

log = structlog.get_logger("stigmer.handshake")
T = TypeVar("T")

REFUSED = "stigmer.Refused"
"""The API refused a system report for good (a bug, a deleted execution): never retried."""


@dataclass
class Delivery:
    ending: Ending
    has_caller: bool
    tell: Literal["outcome", "cancelled", "gone"] = "outcome"
    """How the caller hears: the recorded end; a cancellation it asked for itself; or
    not at all, because it is gone (NOT_FOUND on a heartbeat)."""
    gone_detail: str = ""


@dataclass
class Beat:
    answer: Literal["ok", "cancel_requested", "caller_gone", "no_caller"]
    detail: str = ""


@dataclass
class Finished:
    phase: str
    """The phase recorded: the ending given, or the one that stood already."""
    recorded: bool
    outcome: str = ""
    notes: list[str] = field(default_factory=list)


class RetryLater(Exception):
    """A caller's retry is on its way to take over; deliver again shortly."""


class SystemActivities:
    def __init__(self, api: WorkerClient, temporal: TemporalClient) -> None:
        self.api = api
        self.temporal = temporal

    @activity.defn(name=BEGIN_ACTIVITY)
    async def begin(self, execution_id: str) -> bool:
        """Mark the execution IN_PROGRESS; False when its body must not run at all."""
        response = await _final_refusals(self.api.begin(execution_id))
        return response.run

    @activity.defn(name=FINISH_ACTIVITY)
    async def finish(self, delivery: Delivery) -> Finished:
        """Record the end of an execution no caller waits for."""
        return await self._finish(delivery)

    @activity.defn(name=DELIVER_CALLBACK_ACTIVITY)
    async def deliver_callback(self, delivery: Delivery) -> Finished:
        """Record the end, then complete, fail or cancel the caller through its token."""
        return await self._finish(delivery)

    async def _finish(self, delivery: Delivery) -> Finished:
        report = report_of(delivery.ending)
        execution_id = report.id
        response = await _final_refusals(self.api.record_ending(report))
        # The token comes with the recorded end, as it stands after it.
        token = response.token if delivery.has_caller and response.HasField("token") else None
        execution = response.execution
        finished = Finished(pb.Phase.Name(execution.status.phase), response.recorded)
        outcome = execution.status.callback.outcome
        if token is None or (not response.recorded and outcome != pb.CALLBACK_WAITING):
            finished.outcome = outcome_label(outcome) if token is not None else "no_caller"
            return finished  # no caller, or told already (by an operator, say)
        if delivery.tell == "gone":
            state = callback_state(pb.CALLBACK_CALLER_GONE, delivery.gone_detail)
        else:
            state = await self._tell(execution, token, delivery.tell == "cancelled")
        # The caller has its answer: from here on only recording it remains, retried in
        # this attempt, so a retry never tells the caller twice (and misreads the second
        # answer, NOT_FOUND, as a caller gone).
        await _final_refusals(persistently(lambda: self.api.record_callback(execution_id, state)))
        report_callback(execution, state, callback_fields(execution_id, token))
        finished.outcome = outcome_label(state.outcome)
        return finished

    async def _tell(
        self, execution: pb.Execution, token: pb.CallbackToken, caller_cancelled: bool
    ) -> pb.CallbackState:
        for _ in range(3):
            state = await tell_caller(self.temporal, token.task_token, execution, caller_cancelled)
            if state.outcome != pb.CALLBACK_CALLER_GONE:
                return state
            newer = await self._token(execution.id)
            if newer is not None and newer.attempt != token.attempt:
                token = newer  # a retried caller took over while we were sending
                continue
            fate = await caller_fate(self.temporal, token)
            if fate == "waiting":
                raise RetryLater(
                    f"caller attempt {token.attempt} timed out and its retry is on its way"
                )
            if fate == "told":  # an earlier try landed though its answer was lost
                return callback_state(
                    pb.CALLBACK_DELIVERED, "delivered by an earlier try whose answer was lost"
                )
            break
        return state

    @activity.defn(name=HEARTBEAT_CALLER_ACTIVITY)
    async def heartbeat_caller(self, execution_id: str) -> Beat:
        """One heartbeat to the caller, and what it says back."""
        token = await self._token(execution_id)
        if token is None:
            return Beat("no_caller")
        fields = callback_fields(execution_id, token)
        try:
            await self._handle(token).heartbeat()
        except AsyncActivityCancelledError:
            log.info("caller asked to cancel", **fields)
            return Beat("cancel_requested")
        except RPCError as exc:
            if exc.status not in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
                raise
            newer = await self._token(execution_id)
            if newer is not None and newer.attempt != token.attempt:
                return Beat("ok")  # rotated meanwhile: the next beat uses the newer token
            if await caller_fate(self.temporal, token) == "waiting":
                return Beat("ok")
            log.info("caller gone", error=exc.message, **fields)
            return Beat("caller_gone", f"its caller is gone (Temporal: {exc.message})")
        await _final_refusals(self.api.record_callback(execution_id, None, heartbeat=True))
        log.debug("heartbeat", **fields)
        return Beat("ok")

    async def _token(self, execution_id: str) -> pb.CallbackToken | None:
        try:
            return await self.api.callback_token(execution_id)
        except ApiError as exc:
            if exc.code == grpc.StatusCode.NOT_FOUND:
                return None
            raise

    def _handle(self, token: pb.CallbackToken) -> AsyncActivityHandle:
        return self.temporal.get_async_activity_handle(task_token=token.task_token)


async def _final_refusals(call: Awaitable[T]) -> T:
    """Await an API call; a refusal retrying cannot change fails the activity for good."""
    try:
        return await call
    except ApiError as exc:
        if exc.code in REFUSALS:
            raise ApplicationError(
                f"the API refused: {exc}", type=REFUSED, non_retryable=True
            ) from exc
        raise
