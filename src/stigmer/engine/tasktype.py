"""What a task type is, and what it shares with the interpreter and the validator.

Each module of `stigmer.engine.tasks` declares one `TaskType` as `TASK`: the kind it
handles, its model (the typed task it receives), how it runs in workflow code, its checks
beyond the schema, its activities and its documented example. `stigmer.engine.registry`
collects them; the interpreter, validation and the engine worker all ask it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

from stigmer.engine.events import Inbox
from stigmer.engine.expressions import Evaluator
from stigmer.engine.position import Tracker
from stigmer.permissions import Permissions

if TYPE_CHECKING:
    from stigmer.client import WorkerClient
    from stigmer.config import Settings

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

DSL_CALLS = ("asyncapi", "grpc", "http", "openapi", "a2a", "mcp")
"""The call types the DSL defines; any other `call` names a function."""

FUNCTION = "*"
"""The `variant` of the type that runs `call: NAME` for a function of `use.functions`."""

PROCESSES = ("container", "script", "shell", "workflow")
"""What a `run` task runs, each named by the property that defines it."""


def task_kind(task: Any) -> str | None:
    """The task's type: the first defining property it has (None for a malformed task)."""
    if not isinstance(task, dict):
        return None
    return next((kind for kind in TASK_KINDS if kind in task), None)


def task_variant(kind: str, task: dict[str, Any]) -> str | None:
    """What a `call` calls (`http`, `agent`, a function's name) or what a `run` runs
    (`shell`, `workflow`, ...); None for the other kinds."""
    if kind == "call":
        return task["call"] if isinstance(task["call"], str) else None
    if kind == "run":
        run = task["run"]
        return next((p for p in PROCESSES if p in run), None) if isinstance(run, dict) else None
    return None


def describe(kind: str, task: dict[str, Any]) -> str:
    """How a message names the task's type: `'call: http'`, `'run: shell'`, `'set'`."""
    variant = task_variant(kind, task)
    return f"'{kind}: {variant}'" if variant else f"'{kind}'"


class Runner(Protocol):
    """How a task runs the tasks nested in it (the interpreter implements it)."""

    inbox: Inbox | None
    """Events the run has received, for `listen`; None where the run cannot receive any."""
    tracker: Tracker
    """Where the run is, for a loop to record its iteration and to resume a continued run."""

    def iterating(self, pointer: str, iteration: int, iterations: int) -> None:
        """A `for` task at `pointer` moved to its `iteration`-th item (from 1)."""

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
    """A task's result that also chooses where the flow goes next (a `switch` case's
    `then`), instead of the task's own `then`."""

    output: Any
    then: str


@dataclass(frozen=True)
class Called:
    """A task's result that went through an execution of its own (`call: agent`, `run:
    workflow`): progress links the task to that execution."""

    output: Any
    execution_id: str


@dataclass(slots=True)
class TaskScope:
    """What a task's own module needs to run it; read, never changed. Not a frozen
    dataclass: one is made per task, and freezing triples what that costs."""

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

    def evaluate(self, value: Any, data: Any) -> Any:
        """`value` with its runtime expressions evaluated against `data` (a template)."""
        return self.evaluator.template(value, data, self.args, instance=self.pointer)

    @property
    def use(self) -> Mapping[str, Any]:
        """The workflow's reusable components (`use`)."""
        definition = self.args["workflow"]["definition"]
        use: Mapping[str, Any] = definition.get("use") or {}
        return use


class Checks(Protocol):
    """What a task type's checks beyond the schema may ask of the validator.

    Every problem is added with the JSON pointer of the offending node; the validator
    turns it into file, line and task path.
    """

    loose: bool
    """Whether the document evaluates in loose mode (any string may be an expression)."""

    def add(self, pointer: str, message: str) -> None:
        """Report a problem at `pointer`."""

    def field(self, value: Any, pointer: str, args: frozenset[str]) -> None:
        """A field the spec types as an expression: its expressions must compile."""

    def template(self, value: Any, pointer: str, *, args: frozenset[str] | None = None) -> None:
        """A value whose `${ }` strings, at any depth, must compile."""

    def arguments(self, value: Any, pointer: str) -> None:
        """Arguments an activity receives: like `template`, and `$secrets` may be read."""

    def duration(self, value: Any, pointer: str, *, positive: bool = False) -> None:
        """A duration (or an expression yielding one), longer than zero if `positive`."""

    def reference(self, kind: str, name: str, pointer: str) -> None:
        """A name that must be defined in `use.<kind>` (errors, retries, timeouts)."""

    def authentication(self, policy: Any, pointer: str) -> None:
        """An authentication policy written in a call's arguments."""

    def retry(self, policy: Any, pointer: str) -> None:
        """An inline retry policy."""

    def variable(self, name: Any, pointer: str) -> None:
        """A name a task declares as a variable (`for.each`, `catch.as`, ...)."""

    def declaring(self, *names: Any) -> AbstractContextManager[None]:
        """Expressions checked inside may use these variables."""

    def task_list(self, tasks: Any, pointer: str, *, branches: bool = False) -> None:
        """A nested task list; `branches` for a fork's, whose tasks cannot jump."""

    def reusable(self, kind: str, name: str) -> Any:
        """The definition named `name` in `use.<kind>`, or None."""

    def starts_process(self, program: str, pointer: str, *, allow_as: str) -> None:
        """The task starts `program` on the engine worker: a warning that its operator must
        allow it (as `allow_as`), not a problem."""

    def reads_file(self, endpoint: Any, pointer: str) -> None:
        """The task reads the resource at `endpoint` (a URI, an object with one, or an
        expression): a warning if it may be a file of the engine worker's disk."""


@dataclass(frozen=True)
class Services:
    """What the engine worker gives the activities of task types."""

    settings: Settings
    api: WorkerClient

    @property
    def permissions(self) -> Permissions:
        """What this worker's operator lets definitions do (start processes, read files)."""
        return Permissions.of(self.settings)


Activities = dict[str, Callable[..., Awaitable[Any]]]
"""Activities by their Temporal name; two task types may share one (the same name)."""

M = TypeVar("M", bound=BaseModel)


def _no_checks(task: Any, pointer: str, checks: Checks) -> None:
    return None


def _no_activities(services: Services) -> Activities:
    return {}


def _no_jumps(task: Any, pointer: str) -> Iterator[tuple[str, str]]:
    return iter(())


@dataclass(frozen=True)
class TaskType(Generic[M]):
    """One task type of the DSL, as the engine runs it."""

    kind: str
    """The property that defines the task (`call`, `run`, `set`, ...)."""
    variant: str | None
    """For `call` and `run`: what it calls or runs (`http`, `shell`); `FUNCTION` takes the
    `call` of a function of `use.functions`; None for the other kinds."""
    model: type[M]
    """The typed task the module receives (generated from the schema, or its own)."""
    run: Callable[[M, Any, TaskScope], Awaitable[Any]]
    """How it runs in workflow code: the typed task, its transformed input, its scope."""
    example: str
    """Its documented example: a complete document that uses it."""
    check: Callable[[M, str, Checks], None] = _no_checks
    """Its checks beyond the schema, on a task the schema accepted."""
    activities: Callable[[Services], Activities] = _no_activities
    """The activities it runs, for the engine worker."""
    jumps: Callable[[M, str], Iterator[tuple[str, str]]] = _no_jumps
    """Where it may send the flow besides its own `then` (a `switch` case's `then`), as
    (pointer, target) pairs: targets must be siblings, like a `then`'s."""

    @property
    def name(self) -> str:
        """How messages name it: `'call: http'`, `'set'`."""
        if self.variant == FUNCTION:
            return f"a function's '{self.kind}'"
        return f"'{self.kind}: {self.variant}'" if self.variant else f"'{self.kind}'"

    def parse(self, task: dict[str, Any]) -> M:
        """The typed task; pydantic's ValidationError when it does not fit the model."""
        return self.model.model_validate(task)


def plain(value: Any) -> Any:
    """A typed part of a task back as the JSON the author wrote (what expressions, secrets
    and activities work on); anything else as it is."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value
