"""What `call: agent` and `run: workflow` share: the handshake call and its result."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from temporalio.exceptions import FailureError

from stigmer.contract.inputs import CallRequest, CallResult
from stigmer.contract.problems import CONFIGURATION, Fault, Problem, from_failure, is_cancellation


async def invoke(request: CallRequest) -> dict[str, Any]:
    """Call through the handshake; a failed call faults the task with the callee's error."""
    # Imported on use: the caller brings the API client and gRPC with it, which a
    # workflow that never calls out should not load into its sandbox.
    from stigmer.handshake.caller import call_from_workflow

    try:
        result = await call_from_workflow(request)
    except FailureError as exc:
        if is_cancellation(exc):
            raise
        raise Fault(from_failure(exc, instance=request.task_path)) from exc
    return result_output(result)


def result_output(result: CallResult) -> dict[str, Any]:
    """The task's output: `{execution_id, phase, output, structured}`, plus `result_ref` if set."""
    output = asdict(result)
    if not output["result_ref"]:
        del output["result_ref"]
    return output


def bad_argument(pointer: str, detail: str) -> Fault:
    """A call argument that evaluated to something unusable."""
    return Fault(Problem.of(CONFIGURATION, detail, instance=pointer))
