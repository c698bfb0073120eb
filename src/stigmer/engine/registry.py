"""The one list of task types: every module of `stigmer.engine.tasks` that declares `TASK`.

The interpreter finds here how to run a task, validation how to check it, and the engine
worker which activities to register. Adding a task type is adding one module to
`stigmer.engine.tasks` (see docs/engine.md); nothing else names it.

The modules are found and imported when this module is, so workflow code, which asks the
registry on every task, never imports anything itself.
"""

from __future__ import annotations

import importlib
import pkgutil
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


def _discovered() -> tuple[TaskType[Any], ...]:
    found: list[TaskType[Any]] = []
    for module in pkgutil.iter_modules(tasks.__path__):
        declared = getattr(importlib.import_module(f"{tasks.__name__}.{module.name}"), "TASK", None)
        if isinstance(declared, TaskType):
            found.append(declared)
    return tuple(found)


def _by_kind(types: tuple[TaskType[Any], ...]) -> dict[tuple[str, str | None], TaskType[Any]]:
    table: dict[tuple[str, str | None], TaskType[Any]] = {}
    for task_type in types:
        key = (task_type.kind, task_type.variant)
        if key in table:
            raise RuntimeError(f"two task types handle {task_type.name}")
        table[key] = task_type
    return table


_TYPES = _discovered()
_TABLE = _by_kind(_TYPES)


def task_types() -> tuple[TaskType[Any], ...]:
    """Every task type, in module order."""
    return _TYPES


def find(task: Any) -> TaskType[Any] | None:
    """The type that runs `task` (a task's object), or None when this engine has none."""
    kind = task_kind(task)
    if kind is None:
        return None
    variant = task_variant(kind, task)
    found = _TABLE.get((kind, variant))
    if found is None and kind == "call" and variant is not None and variant not in DSL_CALLS:
        found = _TABLE.get((kind, FUNCTION))
    return found


def activities(services: Services) -> Activities:
    """The activities of every task type, by name, each once, for the engine worker."""
    merged: Activities = {}
    for task_type in _TYPES:
        merged.update(task_type.activities(services))
    return merged
