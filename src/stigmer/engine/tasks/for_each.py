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
from stigmer.engine.tasks import TaskScope

_JSON_TYPES = {
    dict: "an object",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
}


async def execute(task: dict[str, Any], input: Any, scope: TaskScope) -> Any:
    loop = task["for"]
    each, at = loop.get("each", "item"), loop.get("at", "index")
    items = scope.evaluator.field(loop["in"], input, scope.args, instance=scope.pointer)
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
    condition = task.get("while")
    value = input
    for index, item in enumerate(items):
        variables = {each: item, at: index}
        if condition is not None and not scope.evaluator.truthy(
            condition, value, {**scope.args, **variables}, instance=scope.pointer
        ):
            break
        value = await scope.run_list(task["do"], value, f"{scope.pointer}/do", variables)
    return value
