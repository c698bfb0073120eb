"""`call: NAME` for a function the workflow defines in `use.functions`.

The call's `with` arguments, evaluated, are the function's input; the function is a task
like any other (its own `input.schema`, `output.as`, ...) and its output is the call's.
Functions from catalogs (`NAME@VERSION`, or a URI) would be downloaded at run time and
are refused at validation.
"""

from __future__ import annotations

from typing import Any

from stigmer.contract.problems import CONFIGURATION, Fault, Problem
from stigmer.engine.models import CallFunction
from stigmer.engine.tasktype import FUNCTION, Checks, TaskScope, TaskType


async def run(task: CallFunction, input: Any, scope: TaskScope) -> Any:
    name = task.call
    definition = (scope.use.get("functions") or {}).get(name)
    if not isinstance(definition, dict):
        raise Fault(
            Problem.of(
                CONFIGURATION, f"no function {name!r} in use.functions", instance=scope.pointer
            )
        )
    arguments = scope.evaluate(task.with_ or {}, input)
    return await scope.run_alone({name: definition}, arguments, f"{scope.pointer}/function/{name}")


def check(task: CallFunction, pointer: str, checks: Checks) -> None:
    name = task.call
    if checks.reusable("functions", name) is not None:
        checks.template(task.with_, f"{pointer}/with")
    elif "@" in name or "://" in name:
        checks.add(
            f"{pointer}/call",
            f"a function from a catalog ('call: {name}'), which would be downloaded at run "
            "time, is not supported by this engine yet",
        )
    else:
        checks.add(
            f"{pointer}/call",
            f"'call: {name}' is neither a call type of the DSL nor a function of 'use.functions'",
        )


TASK = TaskType(
    kind="call",
    variant=FUNCTION,
    model=CallFunction,
    run=run,
    check=check,
    example="""
document: {dsl: '1.0.3', namespace: examples, name: call-function, version: '1.0.0'}
use:
  functions:
    greet:
      set:
        greeting: ${ "Hello, " + .name }
do:
  - greet:
      call: greet
      with:
        name: ${ .user.name }
""",
)
