"""`run: workflow`: run another applied Stigmer Workflow, by name, and wait for its end.

The DSL also requires `namespace` and `version`; they are accepted, but a Stigmer Workflow
is identified by its name alone. `workflow.input` is evaluated like any task argument.
"""

from __future__ import annotations

from typing import Any

from stigmer.contract.inputs import CallRequest
from stigmer.engine.tasks import TaskScope
from stigmer.engine.tasks.calls import bad_argument, invoke


def build_request(task: dict[str, Any], input: Any, scope: TaskScope) -> CallRequest:
    """Evaluate the nested workflow's reference and input into a handshake request."""
    target = task["run"]["workflow"]
    name = target.get("name")
    if not isinstance(name, str) or not name:
        raise bad_argument(scope.pointer, f"'workflow.name' must be a name, got {name!r}")
    nested_input = scope.evaluator.template(
        target.get("input", {}), input, scope.args, instance=scope.pointer
    )
    return CallRequest(
        kind="workflow",
        target=name,
        input=nested_input,
        parent_execution_id=scope.execution_id,
        task_path=scope.pointer,
    )


async def execute(task: dict[str, Any], input: Any, scope: TaskScope) -> Any:
    return await invoke(build_request(task, input, scope))
