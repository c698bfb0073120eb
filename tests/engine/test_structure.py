"""The engine's shape: no import cycles, no oversized module, one module per task type.

The import graph counts every import, at module level or inside a function (an import
made on use to dodge a cycle is still a cycle). Run this file alone to check it:
`pytest tests/engine/test_structure.py`.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from stigmer.engine import registry, tasks
from stigmer.engine.loader import load_text
from stigmer.engine.tasktype import TaskType
from stigmer.engine.validation import validate_text

ENGINE = Path(registry.__file__).resolve().parent
PACKAGE = "stigmer.engine"
LONGEST_MODULE = 500
GENERATED = "Do not edit: change the script"


def module_name(path: Path) -> str:
    parts = path.relative_to(ENGINE.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(ENGINE.rglob("*.py"))}


def imports_of(path: Path, known: dict[str, Path]) -> set[str]:
    """The engine modules `path` imports, wherever in the file the import is."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        found.update(name for name in names if name in known and name.startswith(PACKAGE))
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(path, known) - {name} for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found by a depth-first walk, each as the modules along it."""
    found: list[list[str]] = []
    state: dict[str, str] = {}
    trail: list[str] = []

    def visit(name: str) -> None:
        state[name] = "open"
        trail.append(name)
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                found.append([*trail[trail.index(target) :], target])
            elif target not in state:
                visit(target)
        trail.pop()
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name)
    return found


def test_the_engine_has_no_import_cycle() -> None:
    graph = import_graph()
    assert len(graph) > 40, sorted(graph)
    assert cycles(graph) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_hand_written_engine_module_is_over_500_lines() -> None:
    sizes = {
        name: len(path.read_text("utf-8").splitlines())
        for name, path in modules().items()
        if GENERATED not in path.read_text("utf-8")[:400]
    }
    assert {name: size for name, size in sizes.items() if size > LONGEST_MODULE} == {}


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
