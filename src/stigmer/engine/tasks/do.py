"""`do`: run subtasks in sequence; the last one's output is the task's output."""

from __future__ import annotations

from typing import Any

from stigmer.engine.models import DoTask
from stigmer.engine.tasktype import Checks, TaskScope, TaskType


async def run(task: DoTask, input: Any, scope: TaskScope) -> Any:
    return await scope.run_list(task.do, input, f"{scope.pointer}/do")


def check(task: DoTask, pointer: str, checks: Checks) -> None:
    checks.task_list(task.do, f"{pointer}/do")


TASK = TaskType(
    kind="do",
    variant=None,
    model=DoTask,
    run=run,
    check=check,
    example="""
document: {dsl: '1.0.3', namespace: examples, name: do, version: '1.0.0'}
do:
  - compositeExample:
      do:
        - setRed:
            set: {colors: '${ .colors + ["red"] }'}
        - setGreen:
            set: {colors: '${ .colors + ["green"] }'}
""",
)
