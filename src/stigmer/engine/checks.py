"""What the schema cannot say, for what every task and every document has in common.

The walk covers the document (`evaluate`, `use`, `timeout`, `schedule`, data flow) and
every task list: duplicate names, `then` targets that are not siblings, and of each task
its `if`, `timeout` and data flow. What a task's own kind needs is checked by its type
(`stigmer.engine.registry`), which receives the task parsed into its model and this
checker as its `Checks`: expressions that must compile with the arguments the spec makes
available where they are written (and the variables `for` and `catch` declare),
durations, references to `use`, authentication policies, and `$secrets`, readable only
in the arguments of tasks whose activity resolves them, so a secret never enters the
workflow history. A construct this engine cannot run is refused here rather than
ignored at run time.

The walk is defensive: it also runs on documents the schema rejected. A task its model
cannot parse is left to the schema's report when the schema found a problem in it, and
is reported here otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import ValidationError

from stigmer.engine import expressions as ex
from stigmer.engine import registry, schemas
from stigmer.engine.durations import parse_duration, parse_positive
from stigmer.engine.outbound.auth import SCHEMES
from stigmer.engine.outbound.resources import endpoint_uri, is_local
from stigmer.engine.outbound.secrets import names_read
from stigmer.engine.pointers import json_pointer
from stigmer.engine.retries import MOST_RETRIES
from stigmer.engine.tasktype import describe, task_kind
from stigmer.permissions import files_advice, process_advice

FLOW_DIRECTIVES = ("continue", "exit", "end")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Checker:
    """One document's walk; `problems()` returns what it found, in walk order."""

    def __init__(self, data: Any, schema_faulted: set[str]) -> None:
        self.data = data if isinstance(data, dict) else {}
        evaluate = self.data.get("evaluate")
        self.loose = isinstance(evaluate, dict) and evaluate.get("mode") == "loose"
        use = self.data.get("use")
        self.use: dict[str, Any] = use if isinstance(use, dict) else {}
        secrets = self.use.get("secrets")
        self.secrets = {str(s) for s in secrets} if isinstance(secrets, list) else set()
        policies = self.use.get("authentications")
        self.policies = policies if isinstance(policies, dict) else {}
        self.schema_faulted = schema_faulted
        """Pointers of the tasks in which the schema found problems."""
        self.variables: frozenset[str] = frozenset()
        """Variables declared by the enclosing `for` and `catch` tasks."""
        self.secrets_readable = False
        """Whether the expressions being checked may read `$secrets` (see `arguments`)."""
        self.found: list[tuple[str, str]] = []
        self.warned: list[tuple[str, str]] = []
        """What is valid but runs only where a worker's operator allows it."""

    def problems(self) -> list[tuple[str, str]]:
        data = self.data
        evaluate = data.get("evaluate")
        if isinstance(evaluate, dict) and evaluate.get("language", "jq") != "jq":
            self.add("/evaluate/language", "only the 'jq' expression language is supported")
        for index, item in enumerate(self.use.get("extensions") or []):
            if isinstance(item, dict) and len(item) == 1:
                self._extension(item, f"/use/extensions/{index}")
        for name, policy in self.policies.items():
            self._policy(policy, json_pointer(["use", "authentications", name]), top_level=True)
        if "timeout" in data:
            self._timeout(data["timeout"], "/timeout")
        self._schedule(data.get("schedule"))
        self._reusables()
        self._data_flow(data, "", ex.WORKFLOW_INPUT, None, ex.WORKFLOW_OUTPUT)
        self.task_list(data.get("do"), "/do")
        return self.found

    # --- what task types may ask (`tasktype.Checks`) ---------------------------------------

    def add(self, pointer: str, message: str) -> None:
        self.found.append((pointer, message))

    def starts_process(self, program: str, pointer: str, *, allow_as: str) -> None:
        self.warned.append(
            (
                pointer,
                f"starts {program} on the engine worker, which refuses it unless "
                f"{process_advice(allow_as)}",
            )
        )

    def reads_file(self, endpoint: Any, pointer: str) -> None:
        uri = endpoint_uri(endpoint) if endpoint is not None else ""
        if not uri:
            return
        if ex.strict_body(uri) is not None:
            subject = "may read a file of the engine worker (its URI is an expression)"
        elif is_local(uri):
            subject = f"reads the file {uri!r} on the engine worker"
        else:
            return
        self.warned.append((pointer, f"{subject}, which refuses it unless {files_advice()}"))

    def field(self, value: Any, pointer: str, args: frozenset[str]) -> None:
        if isinstance(value, str):
            if not (self.loose and ex.strict_body(value) is None):
                self._compile(ex.field_body(value), pointer, args)
        else:
            self.template(value, pointer, args=args)

    def template(self, value: Any, pointer: str, *, args: frozenset[str] | None = None) -> None:
        args = ex.TASK if args is None else args
        if isinstance(value, str):
            body = ex.strict_body(value)
            if body is not None:
                self._compile(body, pointer, args)
        elif isinstance(value, dict):
            for key, item in value.items():
                self.template(item, pointer + json_pointer([key]), args=args)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.template(item, f"{pointer}/{index}", args=args)

    def arguments(self, value: Any, pointer: str) -> None:
        self.secrets_readable = True
        try:
            self.template(value, pointer)
        finally:
            self.secrets_readable = False

    def duration(self, value: Any, pointer: str, *, positive: bool = False) -> None:
        body = ex.strict_body(value)
        if body is not None:
            self._compile(body, pointer, ex.TASK)
            return
        try:
            parse_positive(value) if positive else parse_duration(value)
        except ValueError as exc:
            self.add(pointer, str(exc))

    def reference(self, kind: str, name: str, pointer: str) -> None:
        entries = self.use.get(kind)
        if not isinstance(entries, dict) or name not in entries:
            defined = ", ".join(sorted(entries)) if isinstance(entries, dict) else "none"
            self.add(pointer, f"{name!r} is not defined in use.{kind} (defined: {defined})")

    def reusable(self, kind: str, name: str) -> Any:
        entries = self.use.get(kind)
        return entries.get(name) if isinstance(entries, dict) else None

    def authentication(self, policy: Any, pointer: str) -> None:
        self._policy(policy, pointer, top_level=False)

    def retry(self, policy: Any, pointer: str) -> None:
        if not isinstance(policy, dict):
            return
        with self.declaring("error"):
            for key in ("when", "exceptWhen"):
                if key in policy:
                    self.field(policy[key], f"{pointer}/{key}", ex.TASK)
        count = ((policy.get("limit") or {}).get("attempt") or {}).get("count")
        if isinstance(count, int) and count > MOST_RETRIES:
            self.add(
                f"{pointer}/limit/attempt/count",
                f"{count} retries are more than a run's history can hold; at most {MOST_RETRIES}",
            )
        for path, positive in (
            (("delay",), False),
            (("limit", "duration"), True),
            (("limit", "attempt", "duration"), True),
            (("jitter", "from"), False),
            (("jitter", "to"), False),
        ):
            value: Any = policy
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            if value is not None:
                self.duration(value, pointer + json_pointer(path), positive=positive)

    def variable(self, name: Any, pointer: str) -> None:
        if not isinstance(name, str):
            return
        if not _VARIABLE.match(name):
            self.add(pointer, f"{name!r} is not a valid variable name (letters, digits, _)")
        elif name in ex.ARGUMENTS:
            self.add(pointer, f"{name!r} would hide the runtime argument ${name}")

    @contextmanager
    def declaring(self, *names: Any) -> Iterator[None]:
        outer = self.variables
        self.variables = outer | {name for name in names if isinstance(name, str)}
        try:
            yield
        finally:
            self.variables = outer

    def task_list(self, tasks: Any, pointer: str, *, branches: bool = False) -> None:
        if not isinstance(tasks, list):
            return
        first_seen: dict[str, str] = {}
        entries: list[tuple[dict[str, Any], str]] = []
        for index, item in enumerate(tasks):
            if not isinstance(item, dict) or len(item) != 1:
                continue
            ((name, task),) = item.items()
            task_pointer = f"{pointer}/{index}{json_pointer([name])}"
            if name in first_seen:
                self.add(
                    task_pointer,
                    f"duplicate task name {name!r}: {first_seen[name]} has the same name",
                )
            else:
                first_seen[name] = task_pointer
            if isinstance(task, dict):
                entries.append((task, task_pointer))
        for task, task_pointer in entries:
            for then_pointer, then in self._task(task, task_pointer):
                if then in FLOW_DIRECTIVES:
                    continue
                if branches:
                    self.add(
                        then_pointer,
                        f"'then: {then}': a fork branch cannot jump to another branch; "
                        f"use {', '.join(FLOW_DIRECTIVES)}",
                    )
                elif then not in first_seen:
                    self.add(
                        then_pointer,
                        f"'then: {then}' names no task of this list; a flow directive is "
                        f"{', '.join(FLOW_DIRECTIVES)} or the name of a sibling task",
                    )

    # --- the walk ---------------------------------------------------------------------------

    def _task(self, task: dict[str, Any], pointer: str) -> list[tuple[str, str]]:
        """Check one task; where it may send the flow, as (pointer, target) pairs."""
        kind = task_kind(task)
        if kind is None:
            return []
        if "if" in task:
            self.field(task["if"], f"{pointer}/if", ex.TASK_IF)
        if "timeout" in task:
            self._timeout(task["timeout"], f"{pointer}/timeout")
        self._data_flow(task, pointer, ex.TASK_INPUT, ex.TASK_EXPORT, ex.TASK_OUTPUT)
        jumps = [(f"{pointer}/then", task["then"])] if isinstance(task.get("then"), str) else []
        task_type = registry.find(task)
        if task_type is None:
            self.add(pointer, f"{describe(kind, task)} is not supported by this engine yet")
            return jumps
        try:
            typed = task_type.parse(task)
        except ValidationError as exc:
            if pointer not in self.schema_faulted:
                first = exc.errors()[0]
                where = pointer + json_pointer([str(part) for part in first["loc"]])
                self.add(where, f"{task_type.name} cannot use this: {first['msg']}")
            return jumps
        task_type.check(typed, pointer, self)
        return [*jumps, *task_type.jumps(typed, pointer)]

    def _data_flow(
        self,
        node: dict[str, Any],
        pointer: str,
        input_args: frozenset[str],
        export_args: frozenset[str] | None,
        output_args: frozenset[str],
    ) -> None:
        for key, field, args in (
            ("input", "from", input_args),
            ("output", "as", output_args),
            ("export", "as", export_args),
        ):
            config = node.get(key)
            if not isinstance(config, dict) or args is None:
                continue
            if "schema" in config:
                problem = schemas.schema_problem(config["schema"])
                if problem is not None:
                    self.add(f"{pointer}/{key}/schema", problem)
            if field in config:
                self.field(config[field], f"{pointer}/{key}/{field}", args)

    def _timeout(self, timeout: Any, pointer: str) -> None:
        if isinstance(timeout, str):
            self.reference("timeouts", timeout, pointer)
        elif isinstance(timeout, dict) and "after" in timeout:
            self.duration(timeout["after"], f"{pointer}/after", positive=True)

    def _schedule(self, schedule: Any) -> None:
        """The schedule runs once the Workflow is applied (see engine/scheduling.py)."""
        if not isinstance(schedule, dict):
            return
        if "on" in schedule:
            self.template(schedule["on"], "/schedule/on")
        for key in ("every", "after"):
            if key in schedule:
                try:
                    parse_positive(schedule[key])
                except ValueError as exc:
                    self.add(f"/schedule/{key}", str(exc))

    def _reusables(self) -> None:
        """The functions, errors, retry policies and timeouts of `use`, checked where they
        are written."""
        functions = self.use.get("functions")
        for name, function in (functions if isinstance(functions, dict) else {}).items():
            if isinstance(function, dict):
                self._task(function, json_pointer(["use", "functions", name]))
        for kind in ("errors", "retries", "timeouts"):
            entries = self.use.get(kind)
            for name, entry in (entries if isinstance(entries, dict) else {}).items():
                pointer = json_pointer(["use", kind, name])
                if kind == "errors":
                    self.template(entry, pointer)
                elif kind == "retries":
                    self.retry(entry, pointer)
                else:
                    self._timeout(entry, pointer)

    def _extension(self, item: dict[str, Any], at: str) -> None:
        ((name, extension),) = item.items()
        if not isinstance(extension, dict):
            return
        pointer = at + json_pointer([name])
        if "when" in extension:
            self.field(extension["when"], f"{pointer}/when", ex.TASK)
        for part in ("before", "after"):
            self.task_list(extension.get(part), f"{pointer}/{part}")

    def _policy(self, policy: Any, pointer: str, *, top_level: bool) -> None:
        if not isinstance(policy, dict):
            return
        if "use" in policy and not top_level:
            if policy["use"] not in self.policies:
                self.add(
                    f"{pointer}/use",
                    f"no authentication policy named {policy['use']!r} in 'use.authentications'",
                )
            return
        for scheme in policy:
            if scheme not in SCHEMES:
                self.add(
                    f"{pointer}/{scheme}",
                    f"{scheme!r} authentication is not supported by this engine yet",
                )
            elif isinstance(policy[scheme], dict) and set(policy[scheme]) == {"use"}:
                secret = policy[scheme]["use"]
                if secret not in self.secrets:
                    self.add(
                        f"{pointer}/{scheme}/use",
                        f"secret {secret!r} is not declared in 'use.secrets'",
                    )

    def _compile(self, text: str, pointer: str, args: frozenset[str]) -> None:
        problem = ex.compile_error(text, args | self.variables)
        if problem is not None:
            self.add(pointer, f"invalid expression {text!r}: {problem}")
        if "$secrets" in text:
            if not self.secrets_readable:
                self.add(
                    pointer,
                    "'$secrets' can only be used in the arguments of 'call: "
                    "http|openapi|grpc|mcp' and 'run: shell|script' tasks, which resolve "
                    "them outside the workflow so they never enter its history",
                )
            for name in names_read(text):
                if name not in self.secrets:
                    self.add(pointer, f"secret {name!r} is not declared in 'use.secrets'")
