"""`do`: run subtasks in sequence; the last one's output is the task's output."""

from __future__ import annotations

from typing import Any

from stigmer.engine.tasks import TaskScope


async def execute(task: dict[str, Any], input: Any, scope: TaskScope) -> Any:
    return await scope.run_list(task["do"], input, f"{scope.pointer}/do")
