"""`set`: the output is the given data, its expressions evaluated against the input.

A string `set` is a direct runtime expression, so its bare form is accepted too.
"""

from __future__ import annotations

from typing import Any

from stigmer.engine import expressions as ex
from stigmer.engine.models import SetTask
from stigmer.engine.tasktype import Checks, TaskScope, TaskType


async def run(task: SetTask, input: Any, scope: TaskScope) -> Any:
    return scope.evaluator.field(task.set, input, scope.args, instance=scope.pointer)


def check(task: SetTask, pointer: str, checks: Checks) -> None:
    if isinstance(task.set, str):
        checks.field(task.set, f"{pointer}/set", ex.TASK)
    else:
        checks.template(task.set, f"{pointer}/set")


TASK = TaskType(
    kind="set",
    variant=None,
    model=SetTask,
    run=run,
    check=check,
    example="""
document: {dsl: '1.0.3', namespace: examples, name: set, version: '1.0.0'}
do:
  - setShape:
      set:
        shape: circle
        size: ${ .configuration.size }
""",
)
