"""The caller side of the handshake: a workflow task that hands its token over and waits.

`call_from_workflow` runs in workflow code and schedules one caller activity per call with
timeouts that fit the execution's own deadline. The activity creates the execution with
the callback reference and goes pending (`raise_complete_async`), freeing its worker slot;
the execution's workflow completes, fails or cancels it through the token when it ends.
An outcome the platform did not make for the call is refused, and the call re-attaches to
its execution through a fresh activity (a handover) with the same idempotency key.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import grpc
import structlog
from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError, RetryState
from temporalio.exceptions import TimeoutError as TemporalTimeoutError

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.api_failures import ApiError, TooLarge
from stigmer.client import WorkerClient
from stigmer.contract import problems
from stigmer.contract.inputs import CallKind, CallRequest, CallResult
from stigmer.contract.names import (
    CALL_AGENT_ACTIVITY,
    CANCEL_CALLED_ACTIVITY,
    RUN_WORKFLOW_ACTIVITY,
)
from stigmer.contract.payloads import input_problem
from stigmer.handshake import timeouts
from stigmer.handshake.outcome import CALL_KEY, bound_to, call_result, outcome_error
from stigmer.handshake.tokens import token_preview
from stigmer.sealing.codec import Unauthenticated, forgery
from stigmer.sealing.guard import report_forgery

log = structlog.get_logger("stigmer.handshake")

CREATION_REFUSED = "stigmer.CreationRefused"
"""The API refused the execution (bad argument, unknown agent): retrying cannot help."""

CANCEL_WINDOW = timedelta(minutes=10)
"""How long a cancelled caller keeps trying to cancel what it called (the API may be down)."""

_REFUSALS = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.ALREADY_EXISTS,  # the call's key names another call
    grpc.StatusCode.RESOURCE_EXHAUSTED,  # the request is over the API's size limit
}


def idempotency_key(workflow_id: str, run_id: str, activity_id: str) -> str:
    """One execution per call: a retried attempt of the same activity finds it again.

    The run id is part of the key so that a reset or continued-as-new workflow, whose
    activity ids start over, never picks up an execution of an earlier run.
    """
    return f"call/{workflow_id}/{run_id}/{activity_id}"


async def call_from_workflow(request: CallRequest) -> CallResult:
    """Run a `call: agent` or `run: workflow` task; workflow code only.

    An ending is taken only if the platform made it for this call: sealed, and naming
    the call's idempotency key (see `_doubt_of_failure`). Any other — a completion or failure forged through Temporal's frontend, an outcome sealed
    for another call, a timeout or cancellation before the call's time is up that it did
    not ask for — is recorded as a forgery, and the call re-attaches: a fresh caller
    activity, with the same idempotency key, takes the execution's recorded end at once
    or waits on a fresh token, at most `MAX_HANDOVERS` times and within the call's time.
    """
    plan = timeouts.plan(request.deadline_seconds, request.heartbeat_timeout_seconds)
    info = workflow.info()
    first_id = f"{request.kind}/{workflow.uuid4()}"
    key = idempotency_key(info.workflow_id, info.run_id, first_id)
    name = CALL_AGENT_ACTIVITY if request.kind == "agent" else RUN_WORKFLOW_ACTIVITY
    ends_at = workflow.now() + plan.caller_start_to_close
    request = replace(request, call_key=key)
    too_large = input_problem(request, f"the request of {request.kind} call {request.target!r}")
    if too_large is not None:
        raise too_large.application_error()
    while True:
        activity_id = first_id if not request.handover else f"{first_id}/{request.handover}"
        left = ends_at - workflow.now()
        try:
            result: CallResult | Unauthenticated = await workflow.execute_activity(
                name,
                request,
                activity_id=activity_id,
                task_queue=info.task_queue,
                start_to_close_timeout=left,
                # Attempts (an API that is down, an execution that stopped beating) retry
                # until the call's own time is up, never past it.
                schedule_to_close_timeout=left,
                heartbeat_timeout=plan.caller_heartbeat_timeout,
                retry_policy=RetryPolicy(
                    maximum_interval=timeouts.CALLER_RETRY_CAP,
                    non_retryable_error_types=[CREATION_REFUSED],
                ),
                result_type=CallResult,
            )
        except (asyncio.CancelledError, ActivityError) as exc:
            if _cancelled_here(exc):
                await _cancel_called(request, key)
                raise
            assert isinstance(exc, ActivityError)
            doubt = _doubt_of_failure(exc, key, time_up=workflow.now() >= ends_at)
            if doubt is None:
                raise
        else:
            if isinstance(result, CallResult) and result.call_key == key:
                return result
            doubt = _doubt_of_result(result)
        report_forgery("caller", doubt, activity_id=activity_id, call_key=key)
        if request.handover >= MAX_HANDOVERS or ends_at - workflow.now() < MIN_HANDOVER_TIME:
            raise forgery(
                f"the end of {request.kind} call {request.target!r}",
                f"{doubt}; gave up after {request.handover + 1} forged outcome(s)",
            ).application_error()
        request = replace(request, handover=request.handover + 1, handover_reason=doubt)


MAX_HANDOVERS = 10
"""Forged outcomes one call refuses and re-attaches after, before it fails with `forgery`."""
MIN_HANDOVER_TIME = timedelta(seconds=1)
"""A call with less time left than this does not re-attach: it fails with `forgery`."""


def _cancelled_here(exc: BaseException) -> bool:
    """Whether the calling workflow (or its task) is being cancelled: a cancellation of
    the caller activity that this workflow did not ask for is no cancellation at all."""
    if isinstance(exc, asyncio.CancelledError):
        return True
    if not isinstance(exc, ActivityError) or not isinstance(exc.cause, CancelledError):
        return False
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _doubt_of_result(result: CallResult | Unauthenticated) -> str:
    """Why a completion that is not this call's ending was refused."""
    if isinstance(result, Unauthenticated):
        return f"a completion the platform did not seal: {result.reason}"
    return "a completion sealed for another call"


def _doubt_of_failure(exc: ActivityError, key: str, *, time_up: bool) -> str | None:
    """Why a failure is not this call's ending, or None when it is."""
    cause = exc.cause
    if isinstance(cause, ApplicationError):
        if cause.type == problems.FORGERY:
            return cause.message
        if exc.retry_state in _GAVE_UP or bound_to(cause) == key:
            return None  # the platform's failure of this call, or its attempts gave up
        return "a failure sealed for another call"
    if isinstance(cause, TemporalTimeoutError) and time_up:
        return None
    what = type(cause).__name__ if cause is not None else "failure"
    return f"a {what} the platform did not report, before the call's time was up"


_GAVE_UP = (RetryState.TIMEOUT, RetryState.MAXIMUM_ATTEMPTS_REACHED)
"""How Temporal ends an activity whose own attempts failed: no one can forge these."""


async def _cancel_called(request: CallRequest, key: str) -> None:
    """The calling workflow is being cancelled: the execution it started goes too, and
    one its creation has not made yet will find the call cancelled."""
    await workflow.execute_activity(
        CANCEL_CALLED_ACTIVITY,
        CancelledCall(key, request.kind, request.target, request.parent_execution_id),
        task_queue=workflow.info().task_queue,
        start_to_close_timeout=timedelta(seconds=30),
        schedule_to_close_timeout=CANCEL_WINDOW,
        retry_policy=RetryPolicy(maximum_interval=timeouts.CALLER_RETRY_CAP),
    )


@dataclass
class CancelledCall:
    """A call whose caller was cancelled: its idempotency key and what it was calling."""

    key: str
    kind: CallKind
    target: str
    parent_execution_id: str = ""


def _refused(request: CallRequest, key: str, exc: ApiError) -> ApplicationError:
    """The call's failure when the API refused its execution: final, naming the call; a
    request over a size limit fails with the `too-large` problem."""
    message = f"{request.kind} {request.target!r}: {exc}"
    if isinstance(exc, TooLarge):
        problem = problems.too_large(str(exc))
        return ApplicationError(
            message, problem.to_dict(), {CALL_KEY: key}, type=problem.type, non_retryable=True
        )
    return ApplicationError(message, {CALL_KEY: key}, type=CREATION_REFUSED, non_retryable=True)


def _time_left(info: activity.Info) -> timedelta | None:
    """How long this attempt may still wait: its own timeout, within what is left of the
    call's whole budget after earlier attempts."""
    left = info.start_to_close_timeout
    if info.schedule_to_close_timeout:
        elapsed = datetime.now(UTC) - info.scheduled_time
        remaining = info.schedule_to_close_timeout - elapsed
        left = remaining if left is None else min(left, remaining)
    return left


class CallerActivities:
    """Caller activities, run by the engine worker: a worker, as creating an execution with
    a caller's token is the platform's own business."""

    def __init__(self, api: WorkerClient) -> None:
        self.api = api

    @activity.defn(name=CALL_AGENT_ACTIVITY)
    async def call_agent(self, request: CallRequest) -> CallResult:
        return await self._hand_over(request)

    @activity.defn(name=RUN_WORKFLOW_ACTIVITY)
    async def run_workflow(self, request: CallRequest) -> CallResult:
        return await self._hand_over(request)

    @activity.defn(name=CANCEL_CALLED_ACTIVITY)
    async def cancel_call(self, call: CancelledCall) -> None:
        """Cancel the execution a cancelled caller started; if its creation is still in
        flight, leave a cancelled execution in its place, which that creation then finds."""
        spec = pb.ExecutionSpec(
            kind=pb.AGENT_EXECUTION if call.kind == "agent" else pb.WORKFLOW_EXECUTION,
            idempotency_key=call.key,
            parent_execution_id=call.parent_execution_id,
        )
        if call.kind == "agent":
            spec.agent.agent = call.target
        else:
            spec.workflow.workflow = call.target
        await self.api.cancel_call(spec, "the calling workflow was cancelled")

    async def _hand_over(self, request: CallRequest) -> CallResult:
        info = activity.info()
        token = info.task_token
        workflow_id, run_id = info.workflow_id or "", info.workflow_run_id or ""
        key = request.call_key or idempotency_key(workflow_id, run_id, info.activity_id)
        fields = {
            "workflow_id": workflow_id,
            "activity_id": info.activity_id,
            "attempt": info.attempt,
            "handover": request.handover,
            "token_preview": token_preview(token),
        }
        log.info("token extracted", **fields)
        callback = pb.CallbackRef(
            task_token=token,
            namespace=info.namespace,
            workflow_id=workflow_id,
            run_id=run_id,
            activity_id=info.activity_id,
            attempt=info.attempt,
            handover=request.handover,
            handover_reason=request.handover_reason,
        )
        if info.heartbeat_timeout:
            callback.heartbeat_timeout.FromTimedelta(info.heartbeat_timeout)
        allowed = _time_left(info)
        if allowed is not None:
            callback.caller_timeout.FromTimedelta(allowed)
        try:
            response = await self._create(request, key, callback)
        except ApiError as exc:
            if exc.code in _REFUSALS:
                raise _refused(request, key, exc) from exc
            raise
        execution = response.execution
        fields["execution_id"] = execution.id
        if not response.created:
            log.info("execution found again", **fields)
        if execution.status.phase in (pb.COMPLETED, pb.FAILED, pb.CANCELLED):
            # A retried attempt arriving after the end: nothing will call back, answer now.
            log.info(
                "execution already finished", phase=pb.Phase.Name(execution.status.phase), **fields
            )
            error = outcome_error(execution)
            if error is not None:
                raise error
            return call_result(execution)
        log.info("caller pending", **fields)
        activity.raise_complete_async()

    async def _create(
        self, request: CallRequest, key: str, callback: pb.CallbackRef
    ) -> pb.CreateExecutionResponse:
        deadline = timedelta(seconds=request.deadline_seconds) if request.deadline_seconds else None
        if request.kind == "agent":
            return await self.api.run_agent(
                request.target,
                request.message,
                env=request.env,
                deadline=deadline,
                idempotency_key=key,
                parent_execution_id=request.parent_execution_id,
                callback=callback,
            )
        return await self.api.run_workflow(
            request.target,
            input=request.input,
            deadline=deadline,
            idempotency_key=key,
            parent_execution_id=request.parent_execution_id,
            callback=callback,
        )
