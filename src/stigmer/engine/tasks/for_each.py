"""`for`: run the `do` list once per item of a collection, threading the data through.

Each iteration's input is the previous iteration's output (the first one gets the task's
input); the item and its index are variables (`$item` and `$index` unless `each` and `at`
rename them) visible to every task of the list. `while`, when set, is checked before
each iteration, with that iteration's variables, against the data it would receive: the
loop stops at the first iteration it refuses. The output is the last iteration's output,
or the input when nothing ran. A null collection is empty.
"""

from __future__ import annotations

from typing import Any

from stigmer.contract.problems import EXPRESSION, Fault, Problem
from stigmer.engine import expressions as ex
from stigmer.engine.models import ForTask
from stigmer.engine.position import Frame
from stigmer.engine.tasktype import Checks, TaskScope, TaskType

_JSON_TYPES = {
    dict: "an object",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
}


async def run(task: ForTask, input: Any, scope: TaskScope) -> Any:
    loop = task.for_
    each, at = loop.each or "item", loop.at or "index"
    tracker = scope.runner.tracker
    frame = tracker.resumed("loop", scope.pointer)
    resuming = frame is not None
    if frame is None:
        frame = Frame("loop", scope.pointer, 0, input, _items(task, input, scope))
    items = frame.items or []
    tracker.enter(frame)
    try:
        value = frame.value
        for index in range(frame.index, len(items)):
            variables = {each: items[index], at: index}
            # A continued run is back inside an iteration that `while` let through.
            if (
                task.while_ is not None
                and not (resuming and index == frame.index)
                and not scope.evaluator.truthy(
                    task.while_, value, {**scope.args, **variables}, instance=scope.pointer
                )
            ):
                break
            frame.index, frame.value = index, value
            scope.runner.iterating(scope.pointer, index + 1, len(items))
            value = await scope.run_list(task.do, value, f"{scope.pointer}/do", variables)
        return value
    finally:
        tracker.leave(frame)


def _items(task: ForTask, input: Any, scope: TaskScope) -> list[Any]:
    """The collection `for.in` yields (null is empty)."""
    items = scope.evaluator.field(task.for_.in_, input, scope.args, instance=scope.pointer)
    if items is None:
        return []
    if not isinstance(items, list):
        raise Fault(
            Problem.of(
                EXPRESSION,
                f"'for.in' must yield an array, got {_JSON_TYPES.get(type(items), 'a value')}",
                instance=scope.pointer,
            )
        )
    return items


def check(task: ForTask, pointer: str, checks: Checks) -> None:
    loop = task.for_
    checks.field(loop.in_, f"{pointer}/for/in", ex.TASK)
    each, at = loop.each or "item", loop.at or "index"
    checks.variable(each, f"{pointer}/for/each")
    checks.variable(at, f"{pointer}/for/at")
    if each == at:
        checks.add(f"{pointer}/for/at", f"'for.each' and 'for.at' both name ${each}")
    with checks.declaring(each, at):
        if task.while_ is not None:
            checks.field(task.while_, f"{pointer}/while", ex.TASK)
        checks.task_list(task.do, f"{pointer}/do")


TASK = TaskType(
    kind="for",
    variant=None,
    model=ForTask,
    run=run,
    check=check,
    example="""
document: {dsl: '1.0.3', namespace: examples, name: for, version: '1.0.0'}
do:
  - checkup:
      for:
        each: pet
        in: .pets
        at: index
      while: .vet != null
      do:
        - waitForCheckup:
            set: {checked: '${ (.checked // []) + [$pet.name] }'}
""",
)
