"""The engine's shape: one module per task type, each with a documented example that
validates. (No import cycle and no oversized module: tests/test_structure.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stigmer.engine import registry, tasks
from stigmer.engine.loader import load_text
from stigmer.engine.tasktype import TaskType
from stigmer.engine.validation import validate_text


def test_every_task_module_declares_its_type() -> None:
    task_modules = {path.stem for path in Path(tasks.__file__).parent.glob("*.py")} - {"__init__"}
    declaring = {task_type.run.__module__.rsplit(".", 1)[-1] for task_type in registry.task_types()}
    assert declaring == task_modules


@pytest.mark.parametrize(
    "task_type", registry.task_types(), ids=lambda task_type: task_type.name.strip("'")
)
def test_every_task_types_documented_example_validates(task_type: TaskType[Any]) -> None:
    assert validate_text(task_type.example, source=f"example of {task_type.name}") == []
    assert any(registry.find(task) is task_type for task in _tasks_of(task_type.example))


def _tasks_of(text: str) -> list[object]:
    found: list[object] = []
    pending = [load_text(text).data]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            found.append(node)
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found
