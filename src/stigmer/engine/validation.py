"""Validate a DSL document: the official JSON schema, then what the schema cannot express.

All problems are collected and returned together, each with file, line, the task it is in
and the JSON pointer of the offending node, so an author fixes a document in one pass.

Semantic checks: duplicate task names in a list, `then` targets (of tasks and of `switch`
cases) that are not siblings, expressions that do not compile (with the arguments the spec
makes available where they are written, and the variables `for` and `catch` declare),
durations, names of reusable errors, retries and timeouts, JSON schemas, the arguments of
`call: agent` and `run: workflow`, authentication references and secrets of the calls and
processes (`$secrets` only in their arguments, which activities resolve, so a secret never
enters the workflow history), and every construct this engine cannot run yet, which is
rejected here rather than ignored at run time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError as SchemaError  # type: ignore[import-untyped]
from ruamel.yaml import YAML

from stigmer.engine import expressions as ex
from stigmer.engine import schemas
from stigmer.engine.durations import parse_duration
from stigmer.engine.loader import Document, LoadError, load_path, load_text
from stigmer.engine.pointers import json_pointer
from stigmer.engine.tasks import SUPPORTED_KINDS, TASK_KINDS, outbound, task_kind

FLOW_DIRECTIVES = ("continue", "exit", "end")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
AGENT_ARGUMENTS = ("agent", "message", "env", "timeout", "heartbeatTimeout")


@dataclass(frozen=True)
class ValidationError:
    """One problem in a document."""

    file: str
    line: int | None
    task: str
    """JSON pointer of the task the problem is in (`/do/0/greet`); empty at workflow level."""
    path: str
    """JSON pointer of the offending node itself."""
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        subject = f"task {self.task}" if self.task else (self.path or "document")
        return f"{where}: {subject}: {self.message}"


class WorkflowInvalidError(Exception):
    """A document failed validation; `errors` holds every problem found."""

    def __init__(self, errors: list[ValidationError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def validate_file(path: str | Path) -> list[ValidationError]:
    """Every problem in the YAML/JSON file at `path` (empty when it is valid)."""
    try:
        document = load_path(path)
    except LoadError as exc:
        return [_load_failure(exc)]
    return validate_document(document)


def validate_text(text: str, *, source: str = "<string>") -> list[ValidationError]:
    """Every problem in a YAML/JSON text."""
    try:
        document = load_text(text, source=source)
    except LoadError as exc:
        return [_load_failure(exc)]
    return validate_document(document)


def validate_data(data: Any, *, source: str = "<document>") -> list[ValidationError]:
    """Every problem in an already parsed document (errors then carry no line numbers)."""
    return validate_document(Document(data=data, source=source))


def validate_document(document: Document) -> list[ValidationError]:
    """Every problem in a loaded document, in document order."""
    found = [*_schema_problems(document.data), *_Checker(document.data).problems()]
    unique = dict.fromkeys(found)
    errors = [
        ValidationError(document.source, document.line(path), _task_of(path), path, message)
        for path, message in unique
    ]
    return sorted(errors, key=lambda e: (e.line or 0, e.path))


def load_workflow(path: str | Path) -> dict[str, Any]:
    """The validated document in the file at `path`; raises WorkflowInvalidError."""
    try:
        document = load_path(path)
    except LoadError as exc:
        raise WorkflowInvalidError([_load_failure(exc)]) from None
    return _valid(document)


def parse_workflow(text: str, *, source: str = "<string>") -> dict[str, Any]:
    """The validated document in a YAML/JSON text; raises WorkflowInvalidError."""
    try:
        document = load_text(text, source=source)
    except LoadError as exc:
        raise WorkflowInvalidError([_load_failure(exc)]) from None
    return _valid(document)


def _valid(document: Document) -> dict[str, Any]:
    errors = validate_document(document)
    if errors:
        raise WorkflowInvalidError(errors)
    data: dict[str, Any] = document.data
    return data


def _load_failure(exc: LoadError) -> ValidationError:
    return ValidationError(exc.source, exc.line, "", "", exc.message)


def _task_of(path: str) -> str:
    """The pointer of the innermost task containing `path` (empty outside any task)."""
    parts = path.split("/")[1:]
    found = ""
    position, state = 0, "workflow"
    while position < len(parts):
        key = parts[position]
        if state in ("workflow", "task") and key in ("do", "try"):
            position, state = position + 1, "list"
        elif state == "task" and parts[position : position + 2] in (
            ["fork", "branches"],
            ["catch", "do"],
        ):
            position, state = position + 2, "list"
        elif state == "workflow" and parts[position : position + 2] == ["use", "functions"]:
            if position + 2 >= len(parts):
                break
            found = "/" + "/".join(parts[: position + 3])
            position, state = position + 3, "task"
        elif state == "list" and key.isdigit() and position + 1 < len(parts):
            found = "/" + "/".join(parts[: position + 2])
            position, state = position + 2, "task"
        else:
            break
    return found


# --- the official schema ----------------------------------------------------------------


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    text = resources.files("stigmer.engine").joinpath("schema/workflow.yaml").read_text("utf-8")
    schema = YAML(typ="safe", pure=True).load(text)
    return Draft202012Validator(schema)


_CALL_BRANCHES = ("asyncapi", "grpc", "http", "openapi", "a2a", "mcp")


def _task_schema(kind: str, task: dict[str, Any]) -> dict[str, Any]:
    """The schema branch of the task's own kind, so errors speak about that kind only."""
    defs: dict[str, Any] = _validator().schema["$defs"]
    if kind != "call":
        branch: dict[str, Any] = defs[f"{kind}Task"]
        return branch
    call = task.get("call")
    index = _CALL_BRANCHES.index(call) if call in _CALL_BRANCHES else len(_CALL_BRANCHES)
    branch = defs["callTask"]["oneOf"][index]
    return branch


def _known_properties(branch: dict[str, Any]) -> set[str]:
    defs = _validator().schema["$defs"]
    known = set(defs["taskBase"]["properties"])
    for part in branch.get("allOf", []):
        known.update(part.get("properties", {}))
    return known


def _schema_problems(data: Any) -> Iterator[tuple[str, str]]:
    yield from _against(_validator().schema, data, ())


def _against(
    schema: dict[str, Any], instance: Any, base: tuple[str | int, ...]
) -> Iterator[tuple[str, str]]:
    task_def = _validator().schema["$defs"]["task"]
    errors = list(_validator().evolve(schema=schema).iter_errors(instance))
    tasks_seen: set[tuple[str | int, ...]] = set()
    for error in errors:
        relative = tuple(error.absolute_path)
        if error.schema is task_def:
            if relative not in tasks_seen:
                tasks_seen.add(relative)
                yield from _task_problems(_at(instance, relative), base + relative)
        elif error.validator == "unevaluatedProperties" and (
            not relative or _has_deeper(errors, error)
        ):
            # Any failure beneath an object drops the annotations this keyword relies on,
            # so it then names every property; the real failures are reported instead.
            continue
        else:
            yield _describe(error, base)


def _task_problems(task: Any, path: tuple[str | int, ...]) -> Iterator[tuple[str, str]]:
    pointer = json_pointer(path)
    kind = task_kind(task)
    if kind is None:
        yield pointer, f"a task needs exactly one of: {', '.join(TASK_KINDS)}"
        return
    branch = _task_schema(kind, task)
    for key in sorted(set(task) - _known_properties(branch)):
        yield json_pointer((*path, key)), f"unknown property {key!r} for a {kind!r} task"
    yield from _against(branch, task, path)


def _has_deeper(errors: Sequence[SchemaError], error: SchemaError) -> bool:
    prefix = tuple(error.absolute_path)
    return any(
        other is not error and tuple(other.absolute_path)[: len(prefix)] == prefix
        for other in errors
    )


def _at(instance: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        instance = instance[part]
    return instance


def _describe(error: SchemaError, base: tuple[str | int, ...]) -> tuple[str, str]:
    while error.validator in ("oneOf", "anyOf") and error.context:
        error = max(error.context, key=_branch_relevance)
    return json_pointer(base + tuple(error.absolute_path)), error.message


def _branch_relevance(error: SchemaError) -> tuple[bool, bool, int]:
    """Rank the errors of `oneOf` branches: the branch the author meant is the one that
    failed on something other than its type or its defining property, and deepest."""
    wrong_type = error.validator == "type"
    wrong_kind = error.validator == "required" and not error.relative_path
    return (not wrong_type, not wrong_kind, len(error.relative_path))


# --- what the schema cannot say ---------------------------------------------------------


class _Checker:
    """Walks the document defensively: it also runs on documents the schema rejected."""

    def __init__(self, data: Any) -> None:
        self.data = data if isinstance(data, dict) else {}
        evaluate = self.data.get("evaluate")
        self.loose = isinstance(evaluate, dict) and evaluate.get("mode") == "loose"
        use = self.data.get("use")
        self.use: dict[str, Any] = use if isinstance(use, dict) else {}
        self.variables: frozenset[str] = frozenset()
        """Variables declared by the enclosing `for` and `catch` tasks."""
        self.found: list[tuple[str, str]] = []
        use = self.data.get("use")
        use = use if isinstance(use, dict) else {}
        secrets = use.get("secrets")
        self.secrets = {str(s) for s in secrets} if isinstance(secrets, list) else set()
        policies = use.get("authentications")
        self.policies = policies if isinstance(policies, dict) else {}
        self.secrets_readable = False
        """Whether the expressions being checked may read `$secrets` (see `_outbound`)."""

    def problems(self) -> list[tuple[str, str]]:
        self._workflow()
        return self.found

    def _add(self, pointer: str, message: str) -> None:
        self.found.append((pointer, message))

    def _schedule(self, schedule: Any) -> None:
        """The schedule runs once the Workflow is applied (see engine/scheduling.py)."""
        if not isinstance(schedule, dict):
            return
        if "on" in schedule:
            self._template(schedule["on"], "/schedule/on", field=False)
        for key in ("every", "after"):
            if key in schedule:
                try:
                    parse_duration(schedule[key])
                except ValueError as exc:
                    self._add(f"/schedule/{key}", str(exc))

    def _unsupported(self, pointer: str, what: str) -> None:
        self._add(pointer, f"{what} is not supported by this engine yet")

    def _workflow(self) -> None:
        data = self.data
        evaluate = data.get("evaluate")
        if isinstance(evaluate, dict) and evaluate.get("language", "jq") != "jq":
            self._add("/evaluate/language", "only the 'jq' expression language is supported")
        use = data.get("use")
        if isinstance(use, dict):
            for index, item in enumerate(use.get("extensions") or []):
                if isinstance(item, dict) and len(item) == 1:
                    self._extension(item, f"/use/extensions/{index}")
            self._authentications(use.get("authentications"))
        if "timeout" in data:
            self._timeout(data["timeout"], "/timeout")
        self._schedule(data.get("schedule"))
        self._reusables()
        self._data_flow(data, "", ex.WORKFLOW_INPUT, None, ex.WORKFLOW_OUTPUT)
        tasks = data.get("do")
        if isinstance(tasks, list):
            self._task_list(tasks, "/do")

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
                    self._add(f"{pointer}/{key}/schema", problem)
            if field in config:
                self._field(config[field], f"{pointer}/{key}/{field}", args)

    def _task_list(self, tasks: list[Any], pointer: str, *, branches: bool = False) -> None:
        """A task list; `branches` for a fork's, whose tasks cannot jump to each other."""
        first_seen: dict[str, str] = {}
        entries: list[tuple[str, dict[str, Any], str]] = []
        for index, item in enumerate(tasks):
            if not isinstance(item, dict) or len(item) != 1:
                continue
            ((name, task),) = item.items()
            task_pointer = f"{pointer}/{index}/{json_pointer([name])[1:]}"
            if name in first_seen:
                self._add(
                    task_pointer,
                    f"duplicate task name {name!r}: {first_seen[name]} has the same name",
                )
            else:
                first_seen[name] = task_pointer
            if isinstance(task, dict):
                entries.append((name, task, task_pointer))
        for _name, task, task_pointer in entries:
            self._task(task, task_pointer)
            for then_pointer, then in _jumps(task, task_pointer):
                if not isinstance(then, str) or then in FLOW_DIRECTIVES:
                    continue
                if branches:
                    self._add(
                        then_pointer,
                        f"'then: {then}': a fork branch cannot jump to another branch; "
                        f"use {', '.join(FLOW_DIRECTIVES)}",
                    )
                elif then not in first_seen:
                    self._add(
                        then_pointer,
                        f"'then: {then}' names no task of this list; a flow directive is "
                        f"{', '.join(FLOW_DIRECTIVES)} or the name of a sibling task",
                    )

    def _task(self, task: dict[str, Any], pointer: str) -> None:
        kind = task_kind(task)
        if kind is None:
            return
        if "if" in task:
            self._field(task["if"], f"{pointer}/if", ex.TASK_IF)
        if "timeout" in task:
            self._timeout(task["timeout"], f"{pointer}/timeout")
        self._data_flow(task, pointer, ex.TASK_INPUT, ex.TASK_EXPORT, ex.TASK_OUTPUT)
        if kind == "do" and isinstance(task["do"], list):
            self._task_list(task["do"], f"{pointer}/do")
        elif kind in ("emit", "for", "fork", "listen", "raise", "switch", "try", "wait"):
            getattr(self, f"_{kind}")(task, pointer)
        elif kind == "set":
            self._template(task["set"], f"{pointer}/set", field=isinstance(task["set"], str))
        elif kind == "call" and task["call"] == "agent":
            self._call_agent(task.get("with"), f"{pointer}/with")
        elif kind == "run" and isinstance(task["run"], dict) and "workflow" in task["run"]:
            self._run_workflow(task["run"], f"{pointer}/run")
        elif outbound.handler(kind, task) is not None:
            self._outbound(kind, task, pointer)
        elif kind == "call" and isinstance(task["call"], str) and task["call"] in self.functions:
            self._template(task.get("with"), f"{pointer}/with", field=False)
        elif kind == "call" and task["call"] not in ("asyncapi", "a2a"):
            self._unknown_function(str(task["call"]), pointer)
        elif kind not in SUPPORTED_KINDS or kind in ("call", "run"):
            self._unsupported(pointer, _describe_kind(kind, task))

    def _call_agent(self, args: Any, pointer: str) -> None:
        if not isinstance(args, dict):
            self._add(pointer, "'call: agent' needs 'with' with at least 'agent' and 'message'")
            return
        for key in args:
            if key not in AGENT_ARGUMENTS:
                self._add(
                    f"{pointer}/{key}",
                    f"unknown argument {key!r} for 'call: agent'; "
                    f"expected {', '.join(AGENT_ARGUMENTS)}",
                )
        for key in ("agent", "message"):
            value = args.get(key)
            if not isinstance(value, str) or not value.strip():
                self._add(
                    f"{pointer}/{key}" if key in args else pointer,
                    f"'call: agent' needs '{key}' as a non-empty string",
                )
        message = args.get("message")
        if isinstance(message, str) and ex.strict_body(message) is None:
            for expression, part in ex.segments(message):
                if expression and (problem := ex.compile_error(part, ex.TASK)) is not None:
                    self._add(f"{pointer}/message", f"expression {part!r}: {problem}")
        env = args.get("env")
        if "env" in args and not isinstance(env, dict):
            self._add(f"{pointer}/env", "'env' must map variable names to values")
        elif isinstance(env, dict):
            for key, value in env.items():
                if isinstance(value, dict | list):
                    self._add(f"{pointer}/env/{key}", "an environment value must be a scalar")
        for key in ("timeout", "heartbeatTimeout"):
            if key in args and ex.strict_body(args[key]) is None:
                try:
                    parse_duration(args[key])
                except ValueError as exc:
                    self._add(f"{pointer}/{key}", str(exc))
        checked_above = isinstance(message, str) and ex.strict_body(message) is None
        rest = {k: v for k, v in args.items() if not (k == "message" and checked_above)}
        self._template(rest, pointer, field=False)

    def _run_workflow(self, run: dict[str, Any], pointer: str) -> None:
        if run.get("await") is False:
            self._unsupported(f"{pointer}/await", "'await: false' on 'run: workflow'")
        if "return" in run:
            self._add(f"{pointer}/return", "'return' applies to processes, not to workflows")
        workflow = run["workflow"]
        if isinstance(workflow, dict) and "input" in workflow:
            self._template(workflow["input"], f"{pointer}/workflow/input", field=False)

    def _outbound(self, kind: str, task: dict[str, Any], pointer: str) -> None:
        """`call: http|openapi|grpc|mcp` and `run: shell|script`: their arguments may read
        `$secrets` (resolved in the activity); what the schema cannot say is checked."""
        if kind == "run":
            run = task["run"]
            if run.get("await") is False:
                self._unsupported(f"{pointer}/run/await", "'await: false' on a process")
            script = run.get("script")
            if isinstance(script, dict):
                language = script.get("language")
                if isinstance(language, str) and language.lower() not in outbound.LANGUAGES:
                    self._add(
                        f"{pointer}/run/script/language",
                        f"script language {language!r} is not supported; use "
                        f"{', '.join(outbound.LANGUAGES)}",
                    )
                script = {k: v for k, v in script.items() if k != "code"}  # code, not expressions
            arguments, where = (
                (run, f"{pointer}/run") if script is None else (script, f"{pointer}/run/script")
            )
        else:
            arguments, where = task.get("with"), f"{pointer}/with"
        if not isinstance(arguments, dict):
            return
        if kind == "call" and task["call"] == "http":
            method = arguments.get("method")
            if isinstance(method, str) and method.upper() not in outbound.HTTP_METHODS:
                self._add(f"{where}/method", f"{method!r} is not an HTTP method")
        if kind == "call" and task["call"] == "mcp":
            timeout = arguments.get("timeout")
            if timeout is not None and ex.strict_body(timeout) is None:
                try:
                    parse_duration(timeout)
                except ValueError as exc:
                    self._add(f"{where}/timeout", str(exc))
        for path, policy in outbound.policies(arguments, where):
            self._authentication(policy, path, top_level=False)
        self.secrets_readable = True
        try:
            self._template(arguments, where, field=False)
        finally:
            self.secrets_readable = False

    def _authentications(self, policies: Any) -> None:
        if isinstance(policies, dict):
            for name, policy in policies.items():
                self._authentication(
                    policy, f"/use/authentications/{json_pointer([name])[1:]}", top_level=True
                )

    def _authentication(self, policy: Any, pointer: str, *, top_level: bool) -> None:
        if not isinstance(policy, dict):
            return
        if "use" in policy and not top_level:
            if policy["use"] not in self.policies:
                self._add(
                    f"{pointer}/use",
                    f"no authentication policy named {policy['use']!r} in 'use.authentications'",
                )
            return
        for scheme in policy:
            if scheme not in outbound.AUTH_SCHEMES:
                self._unsupported(f"{pointer}/{scheme}", f"{scheme!r} authentication")
            elif isinstance(policy[scheme], dict) and set(policy[scheme]) == {"use"}:
                secret = policy[scheme]["use"]
                if secret not in self.secrets:
                    self._add(
                        f"{pointer}/{scheme}/use",
                        f"secret {secret!r} is not declared in 'use.secrets'",
                    )

    # --- flow, errors and time ------------------------------------------------------------

    def _switch(self, task: dict[str, Any], pointer: str) -> None:
        default: str | None = None
        for index, item in enumerate(task["switch"]):
            if not isinstance(item, dict) or len(item) != 1:
                continue
            ((name, case),) = item.items()
            case_pointer = f"{pointer}/switch/{index}/{json_pointer([name])[1:]}"
            if not isinstance(case, dict):
                continue
            if "when" in case:
                self._field(case["when"], f"{case_pointer}/when", ex.TASK)
            elif default is not None:
                self._add(
                    case_pointer,
                    f"only one case may leave out 'when': {default} is already the default",
                )
            else:
                default = case_pointer

    def _for(self, task: dict[str, Any], pointer: str) -> None:
        loop = task["for"]
        if not isinstance(loop, dict):
            return
        if "in" in loop:
            self._field(loop["in"], f"{pointer}/for/in", ex.TASK)
        each, at = loop.get("each", "item"), loop.get("at", "index")
        self._variable(each, f"{pointer}/for/each")
        self._variable(at, f"{pointer}/for/at")
        if each == at:
            self._add(f"{pointer}/for/at", f"'for.each' and 'for.at' both name ${each}")
        with self._declaring(each, at):
            if "while" in task:
                self._field(task["while"], f"{pointer}/while", ex.TASK)
            if isinstance(task.get("do"), list):
                self._task_list(task["do"], f"{pointer}/do")

    def _fork(self, task: dict[str, Any], pointer: str) -> None:
        fork = task["fork"]
        if isinstance(fork, dict) and isinstance(fork.get("branches"), list):
            self._task_list(fork["branches"], f"{pointer}/fork/branches", branches=True)

    def _try(self, task: dict[str, Any], pointer: str) -> None:
        if isinstance(task["try"], list):
            self._task_list(task["try"], f"{pointer}/try")
        catch = task.get("catch")
        if not isinstance(catch, dict):
            return
        name = catch.get("as", "error")
        self._variable(name, f"{pointer}/catch/as")
        retry = catch.get("retry")
        if isinstance(retry, str):
            self._reference("retries", retry, f"{pointer}/catch/retry")
        with self._declaring(name):
            for key in ("when", "exceptWhen"):
                if key in catch:
                    self._field(catch[key], f"{pointer}/catch/{key}", ex.TASK)
            if isinstance(retry, dict):
                self._retry(retry, f"{pointer}/catch/retry")
            if isinstance(catch.get("do"), list):
                self._task_list(catch["do"], f"{pointer}/catch/do")

    def _raise(self, task: dict[str, Any], pointer: str) -> None:
        raised = task["raise"]
        error = raised.get("error") if isinstance(raised, dict) else None
        if isinstance(error, str):
            self._reference("errors", error, f"{pointer}/raise/error")
        elif error is not None:
            self._template(error, f"{pointer}/raise/error", field=False)

    def _wait(self, task: dict[str, Any], pointer: str) -> None:
        self._duration(task["wait"], f"{pointer}/wait")

    @property
    def functions(self) -> dict[str, Any]:
        found = self.use.get("functions")
        return found if isinstance(found, dict) else {}

    def _extension(self, item: dict[str, Any], at: str) -> None:
        ((name, extension),) = item.items()
        if not isinstance(extension, dict):
            return
        pointer = f"{at}{json_pointer([name])}"
        if "when" in extension:
            self._field(extension["when"], f"{pointer}/when", ex.TASK)
        for part in ("before", "after"):
            if isinstance(extension.get(part), list):
                self._task_list(extension[part], f"{pointer}/{part}")

    def _unknown_function(self, name: str, pointer: str) -> None:
        if "@" in name or "://" in name:
            self._unsupported(
                f"{pointer}/call",
                f"a function from a catalog ('call: {name}'), which would be downloaded at run "
                "time,",
            )
        else:
            self._add(
                f"{pointer}/call",
                f"'call: {name}' is neither a call type of the DSL nor a function of "
                "'use.functions'",
            )

    def _reusables(self) -> None:
        """The errors, retry policies, timeouts and functions of `use`, checked where they
        are written."""
        for name, function in self.functions.items():
            if isinstance(function, dict):
                self._task(function, f"/use/functions/{json_pointer([name])[1:]}")
        for kind, check in (
            ("errors", self._template_at),
            ("retries", self._retry),
            ("timeouts", self._timeout),
        ):
            entries = self.use.get(kind)
            if isinstance(entries, dict):
                for name, entry in entries.items():
                    check(entry, f"/use/{kind}/{json_pointer([name])[1:]}")

    def _emit(self, task: dict[str, Any], pointer: str) -> None:
        attributes = ((task.get("emit") or {}).get("event") or {}).get("with")
        self._template(attributes, f"{pointer}/emit/event/with", field=False)

    def _listen(self, task: dict[str, Any], pointer: str) -> None:
        """Filters are checked as the events they will see: `${ }` on an attribute value."""
        listen = task.get("listen") or {}
        self._template(listen.get("to"), f"{pointer}/listen/to", field=False)
        until = (listen.get("to") or {}).get("until")
        if isinstance(until, str):
            self._field(until, f"{pointer}/listen/to/until", ex.TASK)
        iterator = task.get("foreach")
        if isinstance(iterator, dict) and isinstance(iterator.get("do"), list):
            names = [iterator.get("item", "item"), iterator.get("at", "index")]
            with self._declaring(*names):
                self._task_list(iterator["do"], f"{pointer}/foreach/do")

    def _template_at(self, value: Any, pointer: str) -> None:
        self._template(value, pointer, field=False)

    def _retry(self, policy: Any, pointer: str) -> None:
        if not isinstance(policy, dict):
            return
        with self._declaring("error"):
            for key in ("when", "exceptWhen"):
                if key in policy:
                    self._field(policy[key], f"{pointer}/{key}", ex.TASK)
        durations = [("delay",), ("limit", "duration"), ("limit", "attempt", "duration")]
        durations += [("jitter", "from"), ("jitter", "to")]
        for path in durations:
            value: Any = policy
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            if value is not None:
                self._duration(value, pointer + json_pointer(path))

    def _timeout(self, timeout: Any, pointer: str) -> None:
        if isinstance(timeout, str):
            self._reference("timeouts", timeout, pointer)
        elif isinstance(timeout, dict) and "after" in timeout:
            self._duration(timeout["after"], f"{pointer}/after")

    def _duration(self, value: Any, pointer: str) -> None:
        body = ex.strict_body(value)
        if body is not None:
            self._compile(body, pointer, ex.TASK)
            return
        try:
            parse_duration(value)
        except ValueError as exc:
            self._add(pointer, str(exc))

    def _reference(self, kind: str, name: str, pointer: str) -> None:
        """A name that must be defined in `use.<kind>`."""
        entries = self.use.get(kind)
        if not isinstance(entries, dict) or name not in entries:
            defined = ", ".join(sorted(entries)) if isinstance(entries, dict) else "none"
            self._add(pointer, f"{name!r} is not defined in use.{kind} (defined: {defined})")

    def _variable(self, name: Any, pointer: str) -> None:
        if not isinstance(name, str):
            return
        if not _VARIABLE.match(name):
            self._add(pointer, f"{name!r} is not a valid variable name (letters, digits, _)")
        elif name in ex.ARGUMENTS:
            self._add(pointer, f"{name!r} would hide the runtime argument ${name}")

    @contextmanager
    def _declaring(self, *names: Any) -> Iterator[None]:
        """Expressions checked inside may use these variables."""
        outer = self.variables
        self.variables = outer | {name for name in names if isinstance(name, str)}
        try:
            yield
        finally:
            self.variables = outer

    def _field(self, value: Any, pointer: str, args: frozenset[str]) -> None:
        """A field the spec types as an expression: bare or ${ } strings, or templates."""
        if isinstance(value, str):
            if not (self.loose and ex.strict_body(value) is None):
                self._compile(ex.field_body(value), pointer, args)
        else:
            self._template(value, pointer, field=False, args=args)

    def _template(
        self, value: Any, pointer: str, *, field: bool, args: frozenset[str] = ex.TASK
    ) -> None:
        if field:
            self._field(value, pointer, args)
        elif isinstance(value, str):
            body = ex.strict_body(value)
            if body is not None:
                self._compile(body, pointer, args)
        elif isinstance(value, dict):
            for key, item in value.items():
                self._template(item, f"{pointer}/{json_pointer([key])[1:]}", field=False, args=args)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self._template(item, f"{pointer}/{index}", field=False, args=args)

    def _compile(self, text: str, pointer: str, args: frozenset[str]) -> None:
        problem = ex.compile_error(text, args | self.variables)
        if problem is not None:
            self._add(pointer, f"invalid expression {text!r}: {problem}")
        if "$secrets" in text:
            self._secrets_read(text, pointer)

    def _secrets_read(self, text: str, pointer: str) -> None:
        if not self.secrets_readable:
            self._add(
                pointer,
                "'$secrets' can only be used in the arguments of 'call: http|openapi|grpc|mcp' "
                "and 'run: shell|script' tasks, which resolve them outside the workflow so "
                "they never enter its history",
            )
        for name in outbound.secret_names(text):
            if name not in self.secrets:
                self._add(pointer, f"secret {name!r} is not declared in 'use.secrets'")


def _jumps(task: dict[str, Any], pointer: str) -> Iterator[tuple[str, Any]]:
    """Where a task may send the flow: its own `then` and those of its switch cases."""
    if "then" in task:
        yield f"{pointer}/then", task["then"]
    cases = task.get("switch")
    if isinstance(cases, list):
        for index, item in enumerate(cases):
            if isinstance(item, dict) and len(item) == 1:
                ((name, case),) = item.items()
                if isinstance(case, dict) and "then" in case:
                    yield f"{pointer}/switch/{index}/{json_pointer([name])[1:]}/then", case["then"]


def _describe_kind(kind: str, task: dict[str, Any]) -> str:
    if kind == "call":
        return f"'call: {task['call']}'"
    if kind == "run" and isinstance(task["run"], dict):
        process = next((k for k in ("container", "script", "shell") if k in task["run"]), None)
        if process:
            return f"'run: {process}'"
    return f"'{kind}'"
