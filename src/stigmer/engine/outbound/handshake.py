"""What `call: agent` and `run: workflow` share: a call through the token handshake."""

from __future__ import annotations

from temporalio.exceptions import FailureError

from stigmer.contract.inputs import CallRequest, CallResult
from stigmer.contract.names import (
    CALL_AGENT_ACTIVITY,
    CANCEL_CALLED_ACTIVITY,
    RUN_WORKFLOW_ACTIVITY,
)
from stigmer.contract.problems import CONFIGURATION, Fault, Problem, from_failure, is_cancellation
from stigmer.engine.tasktype import Activities, Services


async def invoke(request: CallRequest) -> CallResult:
    """Call through the handshake; a failed call faults the task with the callee's error."""
    # Imported on use: the caller brings the API client and gRPC with it, which a
    # workflow that never calls out should not load into its sandbox.
    from stigmer.handshake.caller import call_from_workflow

    try:
        return await call_from_workflow(request)
    except FailureError as exc:
        if is_cancellation(exc):
            raise
        raise Fault(from_failure(exc, instance=request.task_path)) from exc


def bad_argument(pointer: str, detail: str) -> Fault:
    """A call argument that evaluated to something unusable."""
    return Fault(Problem.of(CONFIGURATION, detail, instance=pointer))


def caller_activities(services: Services) -> Activities:
    """The handshake's caller activities (both task types register the same ones)."""
    from stigmer.handshake.caller import CallerActivities

    caller = CallerActivities(services.api)
    return {
        CALL_AGENT_ACTIVITY: caller.call_agent,
        RUN_WORKFLOW_ACTIVITY: caller.run_workflow,
        CANCEL_CALLED_ACTIVITY: caller.cancel_call,
    }
