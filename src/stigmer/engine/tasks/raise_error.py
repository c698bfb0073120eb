"""`raise`: fault with an error written inline or named in `use.errors`.

`title`, `detail`, `type` and `instance` may be runtime expressions, evaluated against
the task's input; `instance` defaults to the task's own JSON pointer. The status must be
an HTTP status (100-599), as RFC 7807 and the DSL mean it: one outside that range is
refused at validation, and faults the task with a configuration error should it reach a
run, rather than an error the platform cannot record.
"""

from __future__ import annotations

from typing import Any

from stigmer.contract.problems import CONFIGURATION, STATUS_RANGE, Fault, Problem
from stigmer.engine.models import RaiseTask
from stigmer.engine.pointers import json_pointer
from stigmer.engine.tasktype import Checks, TaskScope, TaskType, plain


async def run(task: RaiseTask, input: Any, scope: TaskScope) -> Any:
    definition = task.raise_.error
    if isinstance(definition, str):
        named = (scope.use.get("errors") or {}).get(definition)
        if named is None:
            raise _misconfigured(f"error {definition!r} is not defined in use.errors", scope)
        definition = named
    error = scope.evaluate(plain(definition), input)
    status = error.get("status")
    if status_problem(status) is not None:
        raise _misconfigured(f"'raise.error.status': {status_problem(status)}", scope)
    raise Fault(
        Problem(
            type=str(error["type"]),
            status=status,
            title=_text(error.get("title")),
            detail=_text(error.get("detail")),
            instance=_text(error.get("instance")) or scope.pointer,
        )
    )


def status_problem(status: Any) -> str | None:
    """Why `status` cannot be an error's status, or None when it can."""
    if isinstance(status, bool) or not isinstance(status, int):
        return f"an error status is an integer, not {status!r}"
    if status not in STATUS_RANGE:
        return (
            f"{status} is not an HTTP status; use one from {STATUS_RANGE.start} "
            f"to {STATUS_RANGE.stop - 1}"
        )
    return None


def check(task: RaiseTask, pointer: str, checks: Checks) -> None:
    definition = task.raise_.error
    if isinstance(definition, str):
        checks.reference("errors", definition, f"{pointer}/raise/error")
        named = checks.reusable("errors", definition)
        where = json_pointer(["use", "errors", definition])
        error = named if isinstance(named, dict) else {}
    else:
        where = f"{pointer}/raise/error"
        error = plain(definition)
        checks.template(error, where)
    if "status" in error and (problem := status_problem(error["status"])) is not None:
        checks.add(f"{where}/status", problem)


def _misconfigured(detail: str, scope: TaskScope) -> Fault:
    return Fault(Problem.of(CONFIGURATION, detail, instance=scope.pointer))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


TASK = TaskType(
    kind="raise",
    variant=None,
    model=RaiseTask,
    run=run,
    check=check,
    example="""
document: {dsl: '1.0.3', namespace: examples, name: raise, version: '1.0.0'}
do:
  - rejectOrder:
      raise:
        error:
          type: https://serverlessworkflow.io/spec/1.0.0/errors/validation
          status: 400
          title: Invalid order
          detail: ${ "order " + (.id | tostring) + " has no items" }
""",
)
