"""The one list of task types: every module of `stigmer.engine.tasks` that declares `TASK`.

The interpreter finds here how to run a task, validation how to check it, and the engine
worker which activities to register. Adding a task type is adding one module to
`stigmer.engine.tasks` (see docs/engine.md); nothing else names it.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import Any

from stigmer.engine import tasks
from stigmer.engine.tasktype import (
    DSL_CALLS,
    FUNCTION,
    Activities,
    Services,
    TaskType,
    task_kind,
    task_variant,
)


@cache
def task_types() -> tuple[TaskType[Any], ...]:
    """Every task type, in module order."""
    found: list[TaskType[Any]] = []
    for module in pkgutil.iter_modules(tasks.__path__):
        declared = getattr(importlib.import_module(f"{tasks.__name__}.{module.name}"), "TASK", None)
        if isinstance(declared, TaskType):
            found.append(declared)
    return tuple(found)


@cache
def _by_kind() -> dict[tuple[str, str | None], TaskType[Any]]:
    table: dict[tuple[str, str | None], TaskType[Any]] = {}
    for task_type in task_types():
        key = (task_type.kind, task_type.variant)
        if key in table:
            raise RuntimeError(f"two task types handle {task_type.name}")
        table[key] = task_type
    return table


def find(task: Any) -> TaskType[Any] | None:
    """The type that runs `task` (a task's object), or None when this engine has none."""
    kind = task_kind(task)
    if kind is None:
        return None
    table = _by_kind()
    variant = task_variant(kind, task)
    found = table.get((kind, variant))
    if found is None and kind == "call" and variant is not None and variant not in DSL_CALLS:
        found = table.get((kind, FUNCTION))
    return found


def activities(services: Services) -> Activities:
    """The activities of every task type, by name, each once, for the engine worker."""
    merged: Activities = {}
    for task_type in task_types():
        merged.update(task_type.activities(services))
    return merged
