"""The life of an execution's own workflow, shared by agent and workflow executions.

`run_as_execution` marks the execution IN_PROGRESS, runs its body under its deadline
while heartbeating the caller, records how it ended, and delivers the callback whatever
way it ended: success, failure, its own deadline, cancellation by the API or by the
caller. The body never needs to know about tokens.

Beginning, recording the end and delivering run as local activities, in the worker that
runs the workflow: no task-queue round trip stands between an execution's end and its
caller's resumption.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import structlog
from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError, FailureError

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import Client
from stigmer.config import sibling_queue
from stigmer.contract import problems
from stigmer.contract.names import (
    BEGIN_ACTIVITY,
    DELIVER_CALLBACK_ACTIVITY,
    FINISH_ACTIVITY,
    HEARTBEAT_CALLER_ACTIVITY,
)
from stigmer.handshake import timeouts
from stigmer.handshake.delivery import DELIVERY_ATTEMPTS, Delivery
from stigmer.handshake.ending import Ending, record_ending

log = structlog.get_logger("stigmer.handshake")
T = TypeVar("T")

SYSTEM_TIMEOUT = timedelta(seconds=30)


def _agents_queue() -> str:
    """System activities run on the agents queue of the workflow's own platform."""
    return sibling_queue(workflow.info().task_queue, "agents")


@dataclass
class ExecutionPlan:
    deadline_seconds: float
    has_caller: bool
    heartbeat_interval_seconds: float


class BookkeepingActivities:
    """Status changes at the start and end of an execution, through the API."""

    def __init__(self, api: Client) -> None:
        self.api = api

    @activity.defn(name=BEGIN_ACTIVITY)
    async def begin(self, execution_id: str) -> ExecutionPlan:
        execution = await self.api.update_status(execution_id, pb.StatusPatch(phase=pb.IN_PROGRESS))
        spec, callback = execution.spec, execution.status.callback
        deadline = (spec.agent if spec.HasField("agent") else spec.workflow).deadline
        interval = timeouts.heartbeat_interval(
            callback.heartbeat_timeout.ToTimedelta()
            if callback.HasField("heartbeat_timeout")
            else None
        )
        log.info("execution started", **_caller_fields(execution))
        return ExecutionPlan(
            deadline_seconds=deadline.ToTimedelta().total_seconds()
            or timeouts.MAX_DEADLINE.total_seconds(),
            has_caller=bool(callback.workflow_id),
            heartbeat_interval_seconds=interval.total_seconds(),
        )

    @activity.defn(name=FINISH_ACTIVITY)
    async def finish(self, ending: Ending) -> None:
        """The end of an execution no caller waits for."""
        await record_ending(self.api, ending)


def _caller_fields(execution: pb.Execution) -> dict[str, object]:
    """The hand-off fields of an execution's log events (a direct call has no caller)."""
    callback = execution.status.callback
    return {
        "execution_id": execution.id,
        "workflow_id": callback.workflow_id or None,
        "activity_id": callback.activity_id or None,
        "token_preview": callback.token_preview or None,
    }


async def run_as_execution(
    execution_id: str,
    body: Callable[[ExecutionPlan], Coroutine[Any, Any, T]],
    *,
    returns_output: bool,
) -> T | None:
    """Run `body` as the execution `execution_id`; workflow code only."""
    plan: ExecutionPlan = await workflow.execute_local_activity(
        BEGIN_ACTIVITY,
        execution_id,
        result_type=ExecutionPlan,
        start_to_close_timeout=SYSTEM_TIMEOUT,
    )
    work = asyncio.create_task(body(plan))
    caller_cancelled = asyncio.Event()

    def cancel_for_caller() -> None:
        caller_cancelled.set()
        work.cancel()

    heartbeats = (
        asyncio.create_task(_heartbeat(execution_id, plan, cancel_for_caller))
        if plan.has_caller
        else None
    )
    cancelled_by_api = False
    result: T | None = None
    try:
        done, _ = await asyncio.wait([work], timeout=plan.deadline_seconds)
        if work in done:
            result = work.result()
            ending = Ending(execution_id, "COMPLETED", output=result, has_output=returns_output)
        else:
            await _stop(work)
            ending = Ending(execution_id, "FAILED", _timeout_error(plan.deadline_seconds))
    except asyncio.CancelledError:
        if caller_cancelled.is_set():
            ending = Ending(execution_id, "CANCELLED", _cancelled("the caller was cancelled"))
        else:
            cancelled_by_api = True
            await _stop(work)
            ending = Ending(execution_id, "CANCELLED", _cancelled("cancelled through the API"))
    except (ActivityError, ApplicationError, FailureError) as exc:
        if caller_cancelled.is_set():  # the body's activity ended by our own cancellation
            ending = Ending(execution_id, "CANCELLED", _cancelled("the caller was cancelled"))
        else:
            ending = Ending(execution_id, "FAILED", error_of(exc))
    finally:
        if heartbeats is not None:
            heartbeats.cancel()
    if plan.has_caller:
        await workflow.execute_local_activity(
            DELIVER_CALLBACK_ACTIVITY,
            Delivery(execution_id, caller_cancelled=caller_cancelled.is_set(), ending=ending),
            start_to_close_timeout=SYSTEM_TIMEOUT,
            retry_policy=RetryPolicy(
                maximum_attempts=DELIVERY_ATTEMPTS, maximum_interval=timedelta(seconds=30)
            ),
        )
    else:
        await workflow.execute_local_activity(
            FINISH_ACTIVITY, ending, start_to_close_timeout=SYSTEM_TIMEOUT
        )
    if cancelled_by_api:
        raise asyncio.CancelledError()
    if ending.phase != "COMPLETED":
        error = ending.error or {}
        raise ApplicationError(
            str(error.get("detail") or error.get("title")),
            error,
            type=str(error.get("type", problems.RUNTIME)),
            non_retryable=True,
        )
    return result


async def _heartbeat(execution_id: str, plan: ExecutionPlan, on_cancel: Callable[[], None]) -> None:
    while True:
        await workflow.sleep(plan.heartbeat_interval_seconds)
        try:
            answer = await workflow.execute_activity(
                HEARTBEAT_CALLER_ACTIVITY,
                execution_id,
                task_queue=_agents_queue(),
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=RetryPolicy(maximum_attempts=2),
            )
        except ActivityError:
            continue  # a missed beat; the caller's heartbeat timeout allows for several
        if answer == "cancel_requested":
            on_cancel()
            return


async def _stop(work: asyncio.Task[Any]) -> None:
    """Cancel the body and let it unwind (its activities are abandoned, not awaited)."""
    work.cancel()
    with contextlib.suppress(BaseException):
        await work


def _timeout_error(deadline_seconds: float) -> dict[str, Any]:
    return {
        "type": problems.TIMEOUT,
        "status": 408,
        "title": "Execution timed out",
        "detail": f"the execution's deadline of {deadline_seconds:g}s passed",
    }


def _cancelled(detail: str) -> dict[str, Any]:
    return {
        "type": problems.CANCELLED,
        "status": 499,
        "title": "Execution cancelled",
        "detail": detail,
    }


def error_of(exc: BaseException) -> dict[str, Any]:
    """The DSL error object an exception carries, or a runtime error describing it."""
    cause: BaseException | None = exc
    while isinstance(cause, ActivityError) and cause.cause is not None:
        cause = cause.cause
    if isinstance(cause, ApplicationError) and cause.details:
        first = cause.details[0]
        if isinstance(first, dict) and "type" in first:
            return {
                k: first[k] for k in ("type", "status", "title", "detail", "instance") if k in first
            }
    if isinstance(cause, CancelledError):
        return _cancelled(str(cause) or "cancelled")
    message = cause.message if isinstance(cause, FailureError) else str(cause)
    return {"type": problems.RUNTIME, "status": 500, "title": "Execution failed", "detail": message}
