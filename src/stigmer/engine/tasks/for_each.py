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
    items = scope.evaluator.field(loop.in_, input, scope.args, instance=scope.pointer)
    if items is None:
        items = []
    if not isinstance(items, list):
        raise Fault(
            Problem.of(
                EXPRESSION,
                f"'for.in' must yield an array, got {_JSON_TYPES.get(type(items), 'a value')}",
                instance=scope.pointer,
            )
        )
    condition = task.while_
    value = input
    for index, item in enumerate(items):
        variables = {each: item, at: index}
        if condition is not None and not scope.evaluator.truthy(
            condition, value, {**scope.args, **variables}, instance=scope.pointer
        ):
            break
        value = await scope.run_list(task.do, value, f"{scope.pointer}/do", variables)
    return value


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
