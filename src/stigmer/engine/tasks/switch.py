"""`switch`: the first case whose `when` holds decides where the flow goes next.

A case without `when` is the default, taken only when no other case matches. When no case
matches and there is no default, the task's own `then` applies (by default `continue`).
The task's output is its input: a switch chooses a path, it does not change the data.
"""

from __future__ import annotations

from typing import Any

from stigmer.engine.tasks import Redirect, TaskScope


async def execute(task: dict[str, Any], input: Any, scope: TaskScope) -> Any:
    default: str | None = None
    for item in task["switch"]:
        ((_name, case),) = item.items()
        if "when" not in case:
            default = default or case["then"]
        elif scope.evaluator.truthy(case["when"], input, scope.args, instance=scope.pointer):
            return Redirect(input, case["then"])
    return input if default is None else Redirect(input, default)
