"""What a finished execution tells its caller: a result, or a typed error."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.contract import problems
from stigmer.contract.inputs import CallResult
from stigmer.resources.values import to_json


def call_result(execution: pb.Execution) -> CallResult:
    """The task output, read from the execution as it is at its end."""
    status = execution.status
    return CallResult(
        execution_id=execution.id,
        phase=pb.Phase.Name(status.phase),
        output=status.output if status.output or not status.result_ref else None,
        structured=to_json(status.structured) if status.HasField("structured") else None,
        result_ref=status.result_ref,
        call_key=execution.spec.idempotency_key,
    )


def error_object(error: pb.ExecutionError) -> dict[str, object]:
    """The DSL error object (RFC 7807 fields), as a `try` task would catch it."""
    found = to_json(error)
    return {
        key: found[key] for key in ("type", "status", "title", "detail", "instance") if key in found
    }


def outcome_error(execution: pb.Execution) -> ApplicationError | None:
    """The error the caller fails with, or None when the execution completed.

    The error's type is the DSL error type and its first detail the error object, so
    the calling workflow can catch it by type; the second names the call it ends (see
    `bound_to`). It is never retried, since the execution's outcome is final.
    """
    status = execution.status
    if status.phase == pb.COMPLETED:
        return None
    error = pb.ExecutionError()
    error.CopyFrom(status.error)
    if not error.type:
        error.type = problems.CANCELLED if status.phase == pb.CANCELLED else problems.RUNTIME
        error.status = 499 if status.phase == pb.CANCELLED else 500
        error.title = f"Execution {pb.Phase.Name(status.phase).lower()}"
    error.instance = error.instance or f"/executions/{execution.id}"
    return ApplicationError(
        f"{error.title}: {error.detail}" if error.detail else error.title,
        error_object(error),
        {CALL_KEY: execution.spec.idempotency_key},
        type=error.type,
        non_retryable=True,
    )


CALL_KEY = "stigmer_call"


def bound_to(error: ApplicationError) -> str | None:
    """The idempotency key of the call a platform-made error ends, if it names one."""
    for detail in error.details:
        if isinstance(detail, dict) and isinstance(detail.get(CALL_KEY), str):
            return str(detail[CALL_KEY])
    return None
