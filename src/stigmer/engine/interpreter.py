"""Runs a validated DSL document: task flow, data flow and flow directives.

This code runs inside a Temporal workflow, so it is deterministic: no I/O, no wall clock
(time comes from the workflow clock), no randomness. What is common to every task (its
`if`, input, output, export, timeout, `then` and `use.extensions`) is here; what a task
does is its type's (`stigmer.engine.registry`), which receives it parsed into its model.

Data flow follows dsl.md "Data Flow". The spec's prose and its diagram disagree on the
initial `$context` (workflow input vs. unset); it starts as `{}` here, so the usual
`export.as: $context + {...}` works whatever the input's type, while the input stays
available as `$workflow.input` and as the first task's input.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import importlib.metadata
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import workflow

from stigmer.contract.problems import CONFIGURATION, Fault, Problem
from stigmer.engine import expressions as ex
from stigmer.engine import schemas, timeouts
from stigmer.engine.events import Inbox
from stigmer.engine.expressions import Evaluator
from stigmer.engine.plans import Plans
from stigmer.engine.pointers import json_pointer
from stigmer.engine.position import (
    RESUMABLE_KINDS,
    ContinueAsNew,
    Continuing,
    Frame,
    Position,
    Tracker,
)
from stigmer.engine.progress import ProgressBuffer
from stigmer.engine.tasktype import Called, Redirect, TaskScope, TaskType

RUNTIME_NAME = "stigmer"
PACE_TASKS = 5000
"""Tasks after which a run that has not waited offers its progress, which also ends its
workflow activation before Temporal's deadlock detector (2 s) would."""
PACE_BYTES = 2 * 1024 * 1024
"""Bytes of JSON its expressions read after which it does the same: large data makes
tasks slow."""


def _runtime_version() -> str:
    try:
        return importlib.metadata.version("stigmer")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


_RUNTIME = {"name": RUNTIME_NAME, "version": _runtime_version(), "metadata": {}}


class _Ended(Exception):
    """`then: end` anywhere: the workflow completes with the ending task's output."""

    def __init__(self, output: Any) -> None:
        super().__init__("end")
        self.output = output


def _wall_clock() -> float:
    return datetime.now(UTC).timestamp()


def _clock_here() -> Callable[[], float]:
    """Seconds since the epoch: the workflow clock under Temporal, the wall clock elsewhere.

    Chosen once per run, and read from the workflow's event loop, which keeps the
    workflow clock: `workflow.time()` reads the same value but looks the running workflow
    up first, which a loop that reads the clock for every task pays dearly for.
    """
    return asyncio.get_running_loop().time if workflow.in_workflow() else _wall_clock


@functools.lru_cache(maxsize=16)
def _date_time(seconds: float) -> dict[str, Any]:
    """The spec's DateTime descriptor; never changed once made. The workflow clock stands
    still within an activation, so a loop's tasks share one."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return {
        "iso8601": moment.isoformat().replace("+00:00", "Z"),
        "epoch": {"seconds": int(seconds), "milliseconds": int(seconds * 1000)},
    }


def _only(args: Mapping[str, Any], names: frozenset[str]) -> dict[str, Any]:
    """The arguments among `names`, plus every variable in scope (`for` items, errors)."""
    return {
        name: value for name, value in args.items() if name in names or name not in ex.ARGUMENTS
    }


async def run_document(
    document: dict[str, Any],
    input: Any,
    *,
    execution_id: str,
    report: ProgressBuffer | None = None,
    inbox: Inbox | None = None,
    position: Position | None = None,
    continuing: Continuing | None = None,
) -> Any:
    """Run `document` on `input` and return the workflow output; raises Fault on a fault.

    The document must have passed `validation.validate_document` (the server validates on
    apply); constructs that slipped through unvalidated fault with a configuration error.
    With `continuing`, it raises ContinueAsNew between two tasks once that is due; a
    continued run is given the `position` it carried.
    """
    return await _Run(document, execution_id, report, inbox, position, continuing).run(input)


class _Run:
    """One execution's state: the evaluator, the descriptors and the current `$context`."""

    def __init__(
        self,
        document: dict[str, Any],
        execution_id: str,
        report: ProgressBuffer | None,
        inbox: Inbox | None,
        position: Position | None = None,
        continuing: Continuing | None = None,
    ) -> None:
        evaluate = document.get("evaluate") or {}
        self.report = report
        self.inbox = inbox
        self.extending = False
        self.document = document
        self.execution_id = execution_id
        self.clock = _clock_here()
        self.evaluator = Evaluator(loose=evaluate.get("mode") == "loose", clock=self.clock)
        self.continuing = continuing
        self.tracker = Tracker(list(position.frames) if position else [])
        self.started = position.started_at if position else self.clock()
        self.context: Any = position.context if position else {}
        self.workflow: dict[str, Any] = {}
        self.secrets: dict[str, Any] = {}
        self.extensions: list[Any] = (document.get("use") or {}).get("extensions") or []
        self.tasks_since = 0
        """Tasks started since the run last offered its progress."""
        self.read_at = 0
        """What the evaluator had read then."""
        self.plans = Plans()

    async def run(self, raw_input: Any) -> Any:
        raw_input = {} if raw_input is None else raw_input
        document = self.document
        self.workflow = {
            "id": self.execution_id,
            "definition": document,
            "input": raw_input,
            "startedAt": _date_time(self.started),
        }
        args = {"secrets": self.secrets, "workflow": self.workflow, "runtime": _RUNTIME}
        limit = timeouts.limit_of(
            document.get("timeout"),
            document.get("use") or {},
            lambda raw: self.evaluator.template(
                raw, raw_input, _only(args, ex.WORKFLOW_INPUT), instance="/timeout"
            ),
            instance="/timeout",
        )
        work = self._run_body(raw_input, args)
        if limit is None:
            return await work
        # A continued run has what is left of the limit.
        left = max(
            limit - timedelta(seconds=self.clock() - self.started), timedelta(milliseconds=1)
        )
        return await timeouts.within(
            work, left, timeouts.timeout_error("the workflow", limit, instance="/")
        )

    async def _run_body(self, raw_input: Any, args: dict[str, Any]) -> Any:
        document = self.document
        value = raw_input
        source = (document.get("input") or {}).get("from")
        if self.tracker.resume:
            source = None  # the first run took the input in; the root list has its value
        else:
            schemas.check(document.get("input"), value, what="workflow input", instance="/input")
        if source is not None:
            value = self.evaluator.field(
                source, value, _only(args, ex.WORKFLOW_INPUT), instance="/input/from"
            )
        try:
            value = await self.run_list(document["do"], value, "/do", {})
        except _Ended as ended:
            value = ended.output
        shape = (document.get("output") or {}).get("as")
        if shape is not None:
            args["context"] = self.context
            value = self.evaluator.field(
                shape, value, _only(args, ex.WORKFLOW_OUTPUT), instance="/output/as"
            )
        schemas.check(document.get("output"), value, what="workflow output", instance="/output")
        return value

    async def run_list(
        self, tasks: list[Any], value: Any, pointer: str, variables: Mapping[str, Any]
    ) -> Any:
        """Run a task list from its first task, following flow directives within it."""
        output, _ = await self._run_list(tasks, value, pointer, variables)
        return output

    async def _run_list(
        self, tasks: list[Any], value: Any, pointer: str, variables: Mapping[str, Any]
    ) -> tuple[Any, bool]:
        """The list's output, and whether a task left it with `then: exit`."""
        plan = self.plans.of_list(tasks, pointer)
        tracker = self.tracker
        frame = (tracker.resumed("list", pointer) if tracker.resume else None) or Frame(
            "list", pointer, 0, value
        )
        index, value = frame.index, frame.value
        tracker.enter(frame)
        try:
            while index < len(tasks):
                frame.index, frame.value = index, value
                if self.continuing is not None and self.continuing.due(self.clock()):
                    self._continue_as_new()
                if self.report is not None and self._worked_long():
                    await self.report.offer()
                name, task = plan.items[index]
                at = plan.pointers[index]
                value, directive = await self.run_task(name, task, value, at, variables)
                if directive == "continue":
                    index += 1
                    continue
                index = self._next(plan.names, index, directive, value, at)
                if index < 0:
                    return value, True
            return value, False
        finally:
            tracker.leave(frame)

    def _continue_as_new(self) -> None:
        """Between two tasks, when continuing is due: hand the run over to a new one, if
        it is somewhere a new run can resume."""
        frames = self.tracker.snapshot()
        if frames is not None:
            raise ContinueAsNew(Position(frames, self.context, self.started))

    def _worked_long(self) -> bool:
        """Between two tasks: whether the run should offer its progress (see PACE_TASKS)."""
        self.tasks_since += 1
        read = self.evaluator.read
        if self.tasks_since < PACE_TASKS and read - self.read_at < PACE_BYTES:
            return False
        self.tasks_since, self.read_at = 0, read
        return True

    @staticmethod
    def _next(names: Mapping[str, int], index: int, directive: str, value: Any, at: str) -> int:
        """The index of the task after `directive` (not `continue`), or -1 when the list
        exits."""
        if directive == "exit":
            return -1
        if directive == "end":
            raise _Ended(value)
        if directive in names:
            return names[directive]
        raise Fault(
            Problem.of(
                CONFIGURATION, f"'then: {directive}' names no task of this list", instance=at
            )
        )

    async def run_alone(
        self, item: dict[str, Any], value: Any, pointer: str, variables: Mapping[str, Any]
    ) -> Any:
        """Run one task outside any list (a fork branch): only `then: end` has an effect."""
        ((name, task),) = item.items()
        output, directive = await self.run_task(name, task, value, pointer, variables)
        if directive == "end":
            raise _Ended(output)
        return output

    async def _extended(
        self,
        kind: str,
        task_type: TaskType[Any],
        task: BaseModel,
        value: Any,
        scope: TaskScope,
        frame: Frame,
    ) -> Any:
        """The task with the `use.extensions` that apply to it: their `before` lists run
        first (one that exits with `then: exit` replaces the task, its output standing
        for the task's), their `after` lists then run on the task's output. Tasks of an
        extension are not extended themselves."""
        applying = [] if self.extending else self._extensions_for(kind, value, scope)
        if not applying:
            return await task_type.run(task, value, scope)
        frame.resumable = False  # a continued run would run the `before` lists again
        self.extending = True
        try:
            for pointer, extension in applying:
                if extension.get("before"):
                    output, exited = await self._run_list(
                        extension["before"], value, f"{pointer}/before", scope.variables
                    )
                    if exited:
                        return output
            self.extending = False
            result = await task_type.run(task, value, scope)
            self.extending = True
            # The `after` lists see the task's output; where the flow goes next and the
            # execution it went through stay the task's.
            output = result.output if isinstance(result, Called | Redirect) else result
            for pointer, extension in applying:
                if extension.get("after"):
                    output = await self.run_list(
                        extension["after"], output, f"{pointer}/after", scope.variables
                    )
            if isinstance(result, Called | Redirect):
                return dataclasses.replace(result, output=output)
            return output
        finally:
            self.extending = False

    def _extensions_for(
        self, kind: str, value: Any, scope: TaskScope
    ) -> list[tuple[str, dict[str, Any]]]:
        found = []
        for index, item in enumerate(self.extensions):
            ((name, extension),) = item.items()
            extends = extension.get("extend")
            if (
                extends != "all"
                and extends != kind
                and not (extends == "composite" and kind == "do")
            ):
                continue
            when = extension.get("when")
            if when is None or self.evaluator.truthy(
                when, value, scope.args, instance=scope.pointer
            ):
                found.append((f"/use/extensions/{index}{json_pointer([name])}", extension))
        return found

    async def run_task(
        self,
        name: str,
        task: dict[str, Any],
        raw_input: Any,
        pointer: str,
        variables: Mapping[str, Any],
    ) -> tuple[Any, str]:
        """Run one task with its data flow; returns its transformed output and directive."""
        plan = self.plans.of_task(task, pointer)
        kind, task_type, typed = plan.kind, plan.type, plan.model
        descriptor: dict[str, Any] = {
            "name": name,
            "reference": pointer,
            "definition": task,
            "input": raw_input,
            "output": None,
            "startedAt": _date_time(started := self.clock()),
        }
        # The arguments of `if` and `input.from` (TASK_IF); `input` and `authorization` join
        # them below for the task itself and its output (TASK): each expression is given
        # exactly what it may use, without a filtered copy per task.
        args: dict[str, Any] = {
            "context": self.context,
            "secrets": self.secrets,
            "task": descriptor,
            "workflow": self.workflow,
            "runtime": _RUNTIME,
            **variables,
        }
        evaluator = self.evaluator
        resumed = self.tracker.resumed("task", pointer) if self.tracker.resume else None
        if resumed is not None:
            value = resumed.value  # a continued run is back inside the task
        else:
            if "if" in task and not evaluator.truthy(task["if"], raw_input, args, instance=pointer):
                if self.report is not None:
                    self.report.ended(pointer, name, "skipped", started)
                return raw_input, "continue"
            value = (
                raw_input if plan.plain_input else self._task_input(task, raw_input, args, pointer)
            )
        args.update(input=value, authorization=None)
        scope = TaskScope(
            pointer=pointer,
            args=args,
            evaluator=evaluator,
            execution_id=self.execution_id,
            runner=self,
            variables=variables,
        )
        limit = (
            timeouts.limit_of(
                task["timeout"],
                self.document.get("use") or {},
                lambda raw: evaluator.template(raw, value, scope.args, instance=pointer),
                instance=pointer,
            )
            if "timeout" in task
            else None
        )
        resumable = kind in RESUMABLE_KINDS and limit is None
        frame = self.tracker.enter(Frame("task", pointer, value=value, resumable=resumable))
        report = self.report
        if resumed is None and report is not None:
            report.started(pointer, name, value, started)
        try:
            work = (
                self._extended(kind, task_type, typed, value, scope, frame)
                if self.extensions
                else task_type.run(typed, value, scope)
            )
            if limit is not None:
                error = timeouts.timeout_error(f"task {pointer}", limit, instance=pointer)
                work = timeouts.within(work, limit, error)
            raw_output = await work
            directive = plan.then
            called = ""
            # By type, not isinstance, which the workflow sandbox makes slow.
            if type(raw_output) is Redirect:
                raw_output, directive = raw_output.output, raw_output.then
            if type(raw_output) is Called:
                raw_output, called = raw_output.output, raw_output.execution_id
            descriptor["output"] = raw_output
            # Inside the try: a task whose `output.as`, `export.as` or their schemas fail
            # has faulted.
            output = (
                raw_output
                if plan.plain_output
                else self.shape_output(task, raw_output, args, pointer)
            )
        except Fault as fault:
            if report is not None:
                report.ended(pointer, name, "faulted", self.clock(), error=fault.problem.to_dict())
            raise
        except asyncio.CancelledError:
            if report is not None:
                report.ended(pointer, name, "cancelled", self.clock())
            raise
        finally:
            self.tracker.leave(frame)
        if report is not None:
            report.ended(
                pointer, name, "completed", self.clock(), output=raw_output, execution_id=called
            )
        return output, directive

    def _task_input(
        self, task: dict[str, Any], raw_input: Any, args: dict[str, Any], pointer: str
    ) -> Any:
        """The task's input, checked against its schema and transformed by `input.from`."""
        schemas.check(task.get("input"), raw_input, what="task input", instance=pointer)
        source = (task.get("input") or {}).get("from")
        if source is None:
            return raw_input
        return self.evaluator.field(source, raw_input, args, instance=pointer)

    def iterating(self, pointer: str, iteration: int, iterations: int) -> None:
        """A `for` task at `pointer` moved to its `iteration`-th item (from 1)."""
        if self.report is not None:
            self.report.iterating(pointer, iteration, iterations)

    def shape_output(
        self, holder: Mapping[str, Any], raw_output: Any, args: dict[str, Any], pointer: str
    ) -> Any:
        """`output.as` then `export.as` of a task or an iterator: its transformed output,
        with `$context` updated; exports made by nested tasks are already in `$context`."""
        evaluator = self.evaluator
        output = raw_output
        shape = (holder.get("output") or {}).get("as")
        if shape is not None:
            output = evaluator.field(shape, output, _only(args, ex.TASK_OUTPUT), instance=pointer)
        schemas.check(holder.get("output"), output, what="task output", instance=pointer)
        export = (holder.get("export") or {}).get("as")
        if export is not None:
            current = {**args, "context": self.context, "output": output}
            self.context = evaluator.field(
                export, output, _only(current, ex.TASK_EXPORT), instance=pointer
            )
            schemas.check(holder.get("export"), self.context, what="context", instance=pointer)
        return output
