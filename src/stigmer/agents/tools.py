"""Built-in tools: the ones an agent names in `tools` as plain strings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_ai.tools import Tool

from stigmer.agents.progress import Reporter
from stigmer.resources.agent import BUILTIN_TOOLS


class TodoItem(BaseModel):
    content: str = Field(description="What to do, in a few words.")
    status: Literal["pending", "in_progress", "completed"] = "pending"


def write_todos(reporter: Reporter) -> Tool[Any]:
    """The todo list tool: the model keeps its plan on the execution, where people see it."""

    async def write_todos(todos: list[TodoItem]) -> str:
        """Replace your todo list with `todos`: plan the work, then keep each item's status
        current (one `in_progress` at a time, `completed` when done)."""
        await reporter.todos([item.model_dump() for item in todos])
        counts = {s: sum(t.status == s for t in todos) for s in ("completed", "in_progress")}
        return (
            f"todo list updated: {len(todos)} items, {counts['completed']} completed, "
            f"{counts['in_progress']} in progress"
        )

    return Tool(write_todos)


BUILTINS: dict[str, Callable[[Reporter], Tool[Any]]] = {"write_todos": write_todos}
assert tuple(BUILTINS) == BUILTIN_TOOLS, "the spec's list of built-in tools is this registry"


def builtin_tools(names: Sequence[str], reporter: Reporter) -> list[Tool[Any]]:
    return [BUILTINS[name](reporter) for name in names]
