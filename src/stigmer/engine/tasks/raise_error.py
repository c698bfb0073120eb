"""`raise`: fault with an error written inline or named in `use.errors`.

`title`, `detail`, `type` and `instance` may be runtime expressions, evaluated against
the task's input; `instance` defaults to the task's own JSON pointer.
"""

from __future__ import annotations

from typing import Any

from stigmer.contract.problems import CONFIGURATION, Fault, Problem
from stigmer.engine.tasks import TaskScope


async def execute(task: dict[str, Any], input: Any, scope: TaskScope) -> Any:
    definition = task["raise"]["error"]
    if isinstance(definition, str):
        named = (scope.use.get("errors") or {}).get(definition)
        if named is None:
            raise Fault(
                Problem.of(
                    CONFIGURATION,
                    f"error {definition!r} is not defined in use.errors",
                    instance=scope.pointer,
                )
            )
        definition = named
    error = scope.evaluator.template(definition, input, scope.args, instance=scope.pointer)
    raise Fault(
        Problem(
            type=str(error["type"]),
            status=int(error["status"]),
            title=_text(error.get("title")),
            detail=_text(error.get("detail")),
            instance=_text(error.get("instance")) or scope.pointer,
        )
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
