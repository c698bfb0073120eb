"""`switch`: the first case whose `when` holds decides where the flow goes next.

A case without `when` is the default, taken only when no other case matches. When no case
matches and there is no default, the task's own `then` applies (by default `continue`).
The task's output is its input: a switch chooses a path, it does not change the data.
Only one case may leave out `when`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from stigmer.engine import expressions as ex
from stigmer.engine.models import SwitchTask
from stigmer.engine.pointers import json_pointer
from stigmer.engine.tasktype import Checks, Redirect, TaskScope, TaskType


async def run(task: SwitchTask, input: Any, scope: TaskScope) -> Any:
    default: str | None = None
    for item in task.switch:
        ((_name, case),) = item.items()
        if case.when is None:
            default = default or case.then
        elif scope.evaluator.truthy(case.when, input, scope.args, instance=scope.pointer):
            return Redirect(input, case.then)
    return input if default is None else Redirect(input, default)


def check(task: SwitchTask, pointer: str, checks: Checks) -> None:
    default: str | None = None
    for index, item in enumerate(task.switch):
        ((name, case),) = item.items()
        case_pointer = f"{pointer}/switch/{index}{json_pointer([name])}"
        if case.when is not None:
            checks.field(case.when, f"{case_pointer}/when", ex.TASK)
        elif default is not None:
            checks.add(
                case_pointer,
                f"only one case may leave out 'when': {default} is already the default",
            )
        else:
            default = case_pointer


def jumps(task: SwitchTask, pointer: str) -> Iterator[tuple[str, str]]:
    for index, item in enumerate(task.switch):
        ((name, case),) = item.items()
        yield f"{pointer}/switch/{index}{json_pointer([name])}/then", case.then


TASK = TaskType(
    kind="switch",
    variant=None,
    model=SwitchTask,
    run=run,
    check=check,
    jumps=jumps,
    example="""
document: {dsl: '1.0.3', namespace: examples, name: switch, version: '1.0.0'}
do:
  - processOrder:
      switch:
        - case1: {when: .orderType == "electronic", then: processElectronicOrder}
        - default: {then: processOtherOrder}
  - processElectronicOrder:
      set: {kind: electronic}
      then: exit
  - processOtherOrder:
      set: {kind: other}
""",
)
