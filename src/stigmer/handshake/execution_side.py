"""The life of an execution's own workflow, shared by agent and workflow executions.

`run_as_execution` begins the execution, runs its body under its deadline while
heartbeating the caller, and then — whatever way it ended: success, failure, its own
deadline, a cancel through the API, a cancel by its caller, or a caller found gone —
records the end and tells the caller. The body never needs to know about tokens.

Every call ends exactly once:
- The body's result lives in workflow state (Temporal keeps it) before anything is
  recorded, so recording it never runs the body again.
- Recording and delivering are held against cancellation: a cancel that arrives while
  they run cannot leave an execution unrecorded or a caller untold.
- They retry transient failures (the API or Temporal unreachable) with capped backoff,
  for as long as the caller can still be answered; past that the workflow ends with the
  ending as its result (or failure), and the API's reconciler records it from Temporal.

Beginning and finishing run as local activities, in the worker that runs the workflow:
no task-queue round trip stands between an execution's end and its caller's resumption.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

from stigmer.config import sibling_queue
from stigmer.contract import problems
from stigmer.contract.inputs import Ending, ExecutionPlan
from stigmer.contract.names import (
    BEGIN_ACTIVITY,
    DELIVER_CALLBACK_ACTIVITY,
    FINISH_ACTIVITY,
    HEARTBEAT_CALLER_ACTIVITY,
)
from stigmer.handshake import ending as endings
from stigmer.handshake import timeouts
from stigmer.handshake.system_activities import REFUSED, Beat, Delivery, Finished
from stigmer.sealing.codec import Unauthenticated
from stigmer.sealing.guard import noted, report_forgery

T = TypeVar("T")

SYSTEM_ATTEMPT_TIMEOUT = timedelta(seconds=30)
SYSTEM_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    non_retryable_error_types=[REFUSED],
)
"""Transient failures retry with capped backoff (every 10 s at most, so an API that comes
back is used within seconds); the window (schedule-to-close) bounds them."""
MIN_FINISH_WINDOW = timedelta(minutes=15)
"""Recording an end keeps trying at least this long, even past the caller's own timeout:
a caller that retries finds the execution and takes the end once it is recorded."""


class _Stop:
    """Why the body is being stopped early, when it is not the workflow's own cancel."""

    def __init__(self) -> None:
        self.by_caller = False
        self.caller_gone = ""


async def run_as_execution(
    execution_id: str,
    plan: ExecutionPlan,
    body: Callable[[], Coroutine[Any, Any, Ending]],
) -> Ending:
    """Run `body` as the execution `execution_id`; workflow code only.

    `body` returns the execution's ending when it completes; a failure it raises becomes
    a FAILED ending with the problem it carries.
    """
    stop = _Stop()
    cancelled_here = False
    try:
        runs = await workflow.execute_local_activity(
            BEGIN_ACTIVITY,
            execution_id,
            result_type=bool,
            start_to_close_timeout=SYSTEM_ATTEMPT_TIMEOUT,
            schedule_to_close_timeout=timedelta(seconds=plan.deadline_seconds),
            retry_policy=SYSTEM_RETRY,
        )
        if runs:
            ending = await _run_body(execution_id, plan, body, stop)
        else:
            ending = endings.cancelled(execution_id, "cancelled before it began")
    except asyncio.CancelledError:
        cancelled_here = True
        ending = endings.cancelled(execution_id, "cancelled through the API")
    except FailureError as exc:  # BEGIN gave up (a local activity's failure comes unwrapped)
        ending = endings.failed(execution_id, problems.from_failure(exc))
    delivery = Delivery(
        ending,
        plan.has_caller,
        tell="gone" if stop.caller_gone else "cancelled" if stop.by_caller else "outcome",
        gone_detail=stop.caller_gone,
    )
    finished = await _held(_finish(delivery, plan))
    return _conclude(ending, finished, cancelled_here)


async def _run_body(
    execution_id: str,
    plan: ExecutionPlan,
    body: Callable[[], Coroutine[Any, Any, Ending]],
    stop: _Stop,
) -> Ending:
    work = asyncio.create_task(body())
    heartbeats = (
        asyncio.create_task(_heartbeat(execution_id, plan, work, stop)) if plan.has_caller else None
    )
    try:
        done, _ = await asyncio.wait([work], timeout=plan.deadline_seconds)
        if work in done:
            return work.result()
        await _stop(work)
        return endings.timed_out(execution_id, plan.deadline_seconds)
    except asyncio.CancelledError:
        if stop.caller_gone:
            return endings.cancelled(execution_id, stop.caller_gone)
        if stop.by_caller:
            return endings.cancelled(execution_id, "the caller was cancelled")
        await _stop(work)
        raise
    except (ActivityError, ApplicationError, FailureError, problems.Fault) as exc:
        if stop.caller_gone:  # the body's activity ended by our own cancellation
            return endings.cancelled(execution_id, stop.caller_gone)
        if stop.by_caller:
            return endings.cancelled(execution_id, "the caller was cancelled")
        if isinstance(exc, problems.Fault):
            return endings.failed(execution_id, exc.problem)
        return endings.failed(execution_id, noted(problems.from_failure(exc), "activity-failure"))
    finally:
        if heartbeats is not None:
            heartbeats.cancel()


async def _heartbeat(
    execution_id: str, plan: ExecutionPlan, work: asyncio.Task[Any], stop: _Stop
) -> None:
    """Beat the caller until the body ends; stop the body when the caller cancels or is gone."""
    while True:
        await workflow.sleep(plan.heartbeat_interval_seconds)
        try:
            beat: Beat | Unauthenticated = await workflow.execute_activity(
                HEARTBEAT_CALLER_ACTIVITY,
                execution_id,
                result_type=Beat,
                task_queue=sibling_queue(workflow.info().task_queue, "agents"),
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=RetryPolicy(maximum_attempts=2),
            )
        except ActivityError:
            continue  # a missed beat; the caller's heartbeat timeout allows for several
        if isinstance(beat, Unauthenticated):
            report_forgery("heartbeat-result", beat.reason)
            continue  # a forged answer is no answer: a missed beat
        if beat.answer == "cancel_requested":
            stop.by_caller = True
            work.cancel()
            return
        if beat.answer == "caller_gone":
            stop.caller_gone = beat.detail or "its caller is gone"
            work.cancel()
            return


async def _finish(delivery: Delivery, plan: ExecutionPlan) -> Finished | None:
    """Record the end and tell the caller; None when even that could not be done in time."""
    info = workflow.info()
    answer_by = info.start_time + _answer_window(plan)
    window = max(answer_by - workflow.now(), MIN_FINISH_WINDOW)
    try:
        finished: Finished = await workflow.execute_local_activity(
            DELIVER_CALLBACK_ACTIVITY if delivery.has_caller else FINISH_ACTIVITY,
            delivery,
            result_type=Finished,
            # One attempt may wait out an API outage once the caller has its answer.
            start_to_close_timeout=window,
            schedule_to_close_timeout=window,
            retry_policy=SYSTEM_RETRY,
        )
    except FailureError as exc:  # given up, or refused; a local activity's failure is unwrapped
        workflow.logger.warning(
            "the end of %s could not be recorded: %s", delivery.ending.execution_id, exc
        )
        return None
    return finished


def _answer_window(plan: ExecutionPlan) -> timedelta:
    """How long a caller allows for its call: the deadline plus the delivery margin."""
    deadline = timedelta(seconds=plan.deadline_seconds)
    return deadline + timeouts.delivery_margin(deadline)


def _conclude(ending: Ending, finished: Finished | None, cancelled_here: bool) -> Ending:
    """The workflow's own result: the ending, without its result once the API has it.

    A failed or cancelled end fails the workflow (so Temporal shows it so), carrying the
    ending for the reconciler; a cancel through the API ends it as cancelled.
    """
    if finished is not None and finished.phase != ending.phase:
        # It had ended already (an operator finished it): that end stands.
        ending = Ending(ending.execution_id, finished.phase, recorded=True)
    elif finished is not None:
        ending = endings.kept(ending)
    if ending.phase == "COMPLETED":
        return ending
    if cancelled_here and finished is not None:
        raise asyncio.CancelledError()
    problem = endings.problem_of(ending)
    raise ApplicationError(problem.summary(), asdict(ending), type=problem.type, non_retryable=True)


async def _held(work: Awaitable[T]) -> T:
    """Run `work` to its end even if the workflow is cancelled meanwhile."""
    task = asyncio.ensure_future(work)
    while not task.done():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait([task])
    return task.result()


async def _stop(work: asyncio.Task[Any]) -> None:
    """Cancel the body and let it unwind (its activities are abandoned, not awaited)."""
    work.cancel()
    with contextlib.suppress(BaseException):
        await work
