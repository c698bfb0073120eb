"""`call: NAME` for a function the workflow defines in `use.functions`.

The call's `with` arguments, evaluated, are the function's input; the function is a task
like any other (its own `input.schema`, `output.as`, ...) and its output is the call's.
Functions from catalogs would be downloaded at run time and are refused at validation.
"""

from __future__ import annotations

from typing import Any

from stigmer.contract.problems import CONFIGURATION, Fault, Problem
from stigmer.engine.tasks import TaskScope


async def execute(task: dict[str, Any], input: Any, scope: TaskScope) -> Any:
    name = task["call"]
    definition = (scope.use.get("functions") or {}).get(name)
    if not isinstance(definition, dict):
        raise Fault(
            Problem.of(
                CONFIGURATION, f"no function {name!r} in use.functions", instance=scope.pointer
            )
        )
    arguments = scope.evaluator.template(
        task.get("with") or {}, input, scope.args, instance=scope.pointer
    )
    return await scope.run_alone({name: definition}, arguments, f"{scope.pointer}/function/{name}")
