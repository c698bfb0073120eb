"""`set`: the output is the given data, its expressions evaluated against the input.

A string `set` is a direct runtime expression, so its bare form is accepted too.
"""

from __future__ import annotations

from typing import Any

from stigmer.engine.tasks import TaskScope


async def execute(task: dict[str, Any], input: Any, scope: TaskScope) -> Any:
    return scope.evaluator.field(task["set"], input, scope.args, instance=scope.pointer)
