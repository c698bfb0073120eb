"""Task types, one module each; this module holds what they share with the interpreter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from stigmer.engine.events import Inbox
from stigmer.engine.expressions import Evaluator

TASK_KINDS = (
    "call",
    "emit",
    "for",
    "fork",
    "listen",
    "raise",
    "run",
    "set",
    "switch",
    "try",
    "wait",
    "do",
)
"""The DSL's task types, each named by the property that defines it.

`do` comes last because a `for` task has a `do` list as well.
"""

SUPPORTED_KINDS = frozenset(
    {"call", "do", "emit", "for", "fork", "listen", "raise", "run", "set", "switch", "try", "wait"}
)
"""Kinds this engine runs; of `call` all but `asyncapi` and `a2a`, of `run` all but `container`."""


def task_kind(task: Any) -> str | None:
    """The task's type: the first defining property it has (None for a malformed task)."""
    if not isinstance(task, dict):
        return None
    return next((kind for kind in TASK_KINDS if kind in task), None)


class Runner(Protocol):
    """How a task runs the tasks nested in it (the interpreter implements it)."""

    inbox: Inbox | None
    """Events the run has received, for `listen`; None where the run cannot receive any."""

    async def run_list(
        self, tasks: list[Any], value: Any, pointer: str, variables: Mapping[str, Any]
    ) -> Any:
        """Run a task list from its first task, following flow directives within it."""

    async def run_alone(
        self, item: dict[str, Any], value: Any, pointer: str, variables: Mapping[str, Any]
    ) -> Any:
        """Run one `{name: task}` item on its own (a fork branch); returns its output."""

    def shape_output(
        self, holder: Mapping[str, Any], raw_output: Any, args: dict[str, Any], pointer: str
    ) -> Any:
        """Apply `holder`'s `output.as` and `export.as` (a `listen` iterator's, per event)."""


@dataclass(frozen=True)
class Redirect:
    """A handler result that also chooses where the flow goes next (a `switch` case's
    `then`), instead of the task's own `then`."""

    output: Any
    then: str


@dataclass(frozen=True)
class TaskScope:
    """What a task's own module needs to run it."""

    pointer: str
    """JSON pointer of the task, e.g. `/do/0/greet`; also the `instance` of its errors."""
    args: Mapping[str, Any]
    """The runtime expression arguments of the task definition ($context, $input, ...),
    plus the variables in scope (`for` items, caught errors)."""
    evaluator: Evaluator
    execution_id: str
    runner: Runner
    variables: Mapping[str, Any] = field(default_factory=dict)
    """Variables declared by enclosing tasks; nested tasks inherit them."""

    async def run_list(
        self,
        tasks: list[Any],
        value: Any,
        pointer: str,
        variables: Mapping[str, Any] | None = None,
    ) -> Any:
        """Run a nested task list under `pointer`, with `variables` added to those in scope."""
        in_scope = {**self.variables, **(variables or {})}
        return await self.runner.run_list(tasks, value, pointer, in_scope)

    async def run_alone(self, item: dict[str, Any], value: Any, pointer: str) -> Any:
        """Run one nested `{name: task}` item on its own, at `pointer`."""
        return await self.runner.run_alone(item, value, pointer, self.variables)

    @property
    def use(self) -> Mapping[str, Any]:
        """The workflow's reusable components (`use`)."""
        definition = self.args["workflow"]["definition"]
        use: Mapping[str, Any] = definition.get("use") or {}
        return use
