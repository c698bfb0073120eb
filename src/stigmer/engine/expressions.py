"""Runtime expressions: jq, in the DSL's strict (`${ ... }`) and loose forms.

Expressions run inside Temporal workflow code, so they must be deterministic. jq itself is,
except for a handful of builtins that read the clock or the process environment; those are
shadowed: `now` returns the time the runtime supplies (the workflow clock under Temporal),
`localtime`/`strflocaltime` are UTC, and `env`/`$ENV` are empty. `import`/`include` cannot
be used because the program does not start with them, so expressions never read files.

The arguments (`$context`, `$input`, ...) travel inside the program's input rather than as
jq named arguments, because jq binds named arguments at compile time and the compiled
program is cached per expression text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping
from functools import lru_cache
from typing import Any

from temporalio import workflow

from stigmer.contract.problems import EXPRESSION, Fault, Problem

with workflow.unsafe.imports_passed_through():
    # C extensions: the sandbox cannot re-import them per run, so the host modules are shared.
    import jq
    import orjson

ARGUMENTS = (
    "context",
    "input",
    "output",
    "secrets",
    "task",
    "workflow",
    "runtime",
    "authorization",
)
"""Every runtime expression argument the DSL defines, in a fixed order."""

# The arguments each kind of expression may use (dsl.md, "Runtime expression arguments").
WORKFLOW_INPUT = frozenset({"secrets", "workflow", "runtime"})
TASK_IF = frozenset({"context", "secrets", "task", "workflow", "runtime"})
TASK_INPUT = TASK_IF
TASK = frozenset({*TASK_IF, "input", "authorization"})
"""The task definition itself, e.g. `set` values and `with` arguments."""
TASK_OUTPUT = TASK
TASK_EXPORT = frozenset({*TASK, "output"})
WORKFLOW_OUTPUT = frozenset({"context", "secrets", "workflow", "runtime"})

_STRICT = re.compile(r"^\s*\$\{(.+)\}\s*$", re.DOTALL)

_DETERMINISTIC_BUILTINS = "def localtime: gmtime; def strflocaltime(f): strftime(f); def env: {}; "
_CLOCK = ".[1] as $__now | def now: $__now; "
_EMPTY_ENV = "{} as $ENV | "


def _shadowed(text: str) -> str:
    """The definitions that keep `text` deterministic. `now` and `$ENV` are bound only when
    the text names them: a binding costs each run about a quarter of a small expression."""
    clock = _CLOCK if "now" in text else ""
    env = _EMPTY_ENV if "$ENV" in text else ""
    return f"{clock}{_DETERMINISTIC_BUILTINS}{env}"


def strict_body(value: Any) -> str | None:
    """The jq text of a `${ ... }` string, or None when `value` is not one."""
    return _strict_text(value) if _json_type(value) is str else None


_JSON_TYPES = frozenset({str, dict, list, int, float, bool, type(None)})


def _json_type(value: Any) -> type:
    """`str`, `dict` or `list` for those and their subclasses, else the value's type.

    Looked up rather than asked of isinstance, which the workflow sandbox wraps at a cost
    that shows in loops: this runs for every value of every task.
    """
    kind = type(value)
    if kind in _JSON_TYPES:
        return kind
    return next((base for base in (str, dict, list) if isinstance(value, base)), kind)


@lru_cache(maxsize=4096)
def _strict_text(value: str) -> str | None:
    match = _STRICT.match(value)
    return match.group(1).strip() if match else None


def segments(text: str) -> list[tuple[bool, str]]:
    """Split text with embedded `${ ... }` into (is_expression, text) parts, in order.

    Braces inside the expression (jq objects) and inside its string literals are
    balanced, so `${ {a: "}"} | .a }` is one expression. An unclosed `${` is literal text.
    """
    parts: list[tuple[bool, str]] = []
    start = 0
    while (opening := text.find("${", start)) >= 0:
        end = _closing_brace(text, opening + 2)
        if end < 0:
            break
        if opening > start:
            parts.append((False, text[start:opening]))
        parts.append((True, text[opening + 2 : end].strip()))
        start = end + 1
    if start < len(text):
        parts.append((False, text[start:]))
    return parts


def _closing_brace(text: str, index: int) -> int:
    depth, quoted, escaped = 1, False, False
    for position in range(index, len(text)):
        char = text[position]
        if quoted:
            escaped = char == "\\" and not escaped
            if char == '"' and not escaped:
                quoted = False
            continue
        if char == '"':
            quoted = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return position
    return -1


def field_body(value: str) -> str:
    """The jq text of a field the spec types as an expression (`if`, `input.from`, ...).

    Such fields take the bare form (`.user.id`) as well as the strict one (`${ .user.id }`).
    """
    body = strict_body(value)
    return value.strip() if body is None else body


@lru_cache(maxsize=2048)
def _compile(text: str, names: tuple[str, ...]) -> Any:
    bindings = "".join(f".[{i + 2}] as ${name} | " for i, name in enumerate(names))
    try:
        # The newline ends a trailing `# comment` before the closing parenthesis.
        return jq.compile(f"{_shadowed(text)}{bindings}.[0] | ({text}\n)")
    except ValueError:
        # Compile the text alone so the message's line and column point into what was written.
        try:
            jq.compile(text, args=dict.fromkeys(names))
        except ValueError as exc:
            raise ValueError(_clean(str(exc))) from None
        raise


def _clean(message: str) -> str:
    lines = [line for line in message.splitlines() if not line.startswith("jq: 1 compile error")]
    return "\n".join(lines).removeprefix("jq: error: ").strip()


def _referenced(text: str, available: Collection[str]) -> tuple[str, ...]:
    """The arguments and variables (`for`'s item, `catch`'s error) the text uses that are
    in scope; only those are bound, keeping jq's input small. Arguments come first, in
    their fixed order, then variables by name."""
    return tuple(name for name in _named(text) if name in available)


_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@lru_cache(maxsize=4096)
def _named(text: str) -> tuple[str, ...]:
    """Every `$name` the text mentions, in binding order (see `_referenced`): once per
    expression, as a loop evaluates it again and again."""
    found = set(_VARIABLE.findall(text))
    return (
        *(name for name in ARGUMENTS if name in found),
        *sorted(found.difference(ARGUMENTS)),
    )


def compile_error(text: str, available: Collection[str]) -> str | None:
    """Why `text` does not compile with the given arguments in scope, or None if it does."""
    try:
        _compile(text, _referenced(text, available))
    except ValueError as exc:
        return _clean(str(exc))
    return None


class Evaluator:
    """Evaluates a workflow's expressions in its evaluation mode.

    In loose mode any string is tried as an expression and stays itself when that fails;
    a string written as `${ ... }` is always an expression, and its failures always fault.
    """

    def __init__(self, *, loose: bool = False, clock: Callable[[], float]) -> None:
        self.loose = loose
        self._clock = clock
        self.read = 0
        """Bytes of JSON given to jq so far: a measure of the work done."""
        self._joined: dict[int, tuple[Any, str | None]] = {}
        """Each template's joined program (see `joined`), by the identity of the template,
        which is held so that the identity stays its own."""

    def run(self, text: str, data: Any, args: Mapping[str, Any], *, instance: str) -> Any:
        """The first result of jq `text` on `data` (null when it yields none)."""
        names = _referenced(text, args)
        try:
            program = _compile(text, names)
            # Only `now` reads the clock, and the workflow clock is not free to read.
            clock = self._clock() if "now" in text else 0.0
            encoded = _encoded([data, clock, *(args[name] for name in names)])
            self.read += len(encoded)
            return next(iter(program.input_text(encoded)), None)
        except ValueError as exc:
            raise Fault(
                Problem.of(
                    EXPRESSION,
                    f"expression {text!r} failed: {_clean(str(exc))}",
                    title="Runtime expression failed",
                    instance=instance,
                )
            ) from None

    def field(self, value: Any, data: Any, args: Mapping[str, Any], *, instance: str) -> Any:
        """Evaluate a field the spec types as an expression; objects are templates."""
        if _json_type(value) is str:
            return self._string(value, field_body(value), data, args, instance)
        return self.template(value, data, args, instance=instance)

    def template(self, value: Any, data: Any, args: Mapping[str, Any], *, instance: str) -> Any:
        """Evaluate every expression string inside `value`, recursively; keep the rest."""
        kind = _json_type(value)
        if kind is dict or kind is list:
            program = self._joined_program(value)
            if program is not None:
                try:
                    found = self.run(program, data, args, instance=instance)
                except Fault:  # one by one below, so that the failing one is named
                    found = None
                if found is not None:  # None: an expression yielded nothing
                    return found
        return self._template(value, kind, data, args, instance)

    def _joined_program(self, value: Any) -> str | None:
        if self.loose:
            return None
        found = self._joined.get(id(value))
        if found is None:
            if len(self._joined) >= JOINED_KEPT:  # templates made on the fly come and go
                self._joined.clear()
            found = self._joined[id(value)] = (value, joined(value))
        return found[1]

    def _template(
        self, value: Any, kind: type, data: Any, args: Mapping[str, Any], instance: str
    ) -> Any:
        if kind is str:
            body = _strict_text(value)
            if body is not None or self.loose:
                return self._string(
                    value, body if body is not None else value, data, args, instance
                )
            return value
        if kind is dict:
            return {k: self.template(v, data, args, instance=instance) for k, v in value.items()}
        if kind is list:
            return [self.template(v, data, args, instance=instance) for v in value]
        return value

    def interpolate(self, value: Any, data: Any, args: Mapping[str, Any], *, instance: str) -> str:
        """Text with every embedded `${ ... }` replaced by its result (JSON unless a string).

        Used where a field is text for a person or a model (an agent's message), so that
        `"Summarize ${ .title } in ${ .words } words"` reads as written.
        """
        if not isinstance(value, str) or strict_body(value) is not None:
            return to_text(self.template(value, data, args, instance=instance))
        return "".join(
            to_text(self.run(part, data, args, instance=instance)) if expression else part
            for expression, part in segments(value)
        )

    def truthy(self, value: str, data: Any, args: Mapping[str, Any], *, instance: str) -> bool:
        """A condition (`if`, `when`): jq truthiness, where only false and null are false."""
        result = self.field(value, data, args, instance=instance)
        return result is not None and result is not False

    def _string(
        self, raw: str, text: str, data: Any, args: Mapping[str, Any], instance: str
    ) -> Any:
        if self.loose and strict_body(raw) is None:
            try:
                return self.run(text, data, args, instance=instance)
            except Fault:
                return raw
        return self.run(text, data, args, instance=instance)


def _encoded(payload: list[Any]) -> str:
    """The JSON text jq reads: orjson's, or the standard library's for what orjson refuses
    (integers beyond 64 bits)."""
    try:
        return orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(payload)


JOINED_KEPT = 1024
"""Templates whose joined program one evaluator keeps."""
_EXACT_INTEGERS = 2**53
"""Integers jq carries exactly (it holds numbers as doubles)."""


def joined(template: Any) -> str | None:
    """One jq program building the whole template, when it has two expressions or more:
    a loop pays for each jq run (its input goes through JSON), not for each expression.

    An object of expressions yields its first result with each expression's first one,
    as evaluating them one by one does; when one yields nothing the object yields
    nothing, and the caller evaluates them one by one instead. None when there is no
    gain, for an expression inside an array (jq collects all its results there), and
    for constants that would not come back from jq as written (floats, large integers).
    """
    parts: list[str] = []
    count = _join(template, parts)
    return "".join(parts) if count is not None and count >= 2 else None


def _join(value: Any, parts: list[str], *, in_array: bool = False) -> int | None:
    """Append the jq text of `value` to `parts`; how many expressions it has, or None."""
    kind = _json_type(value)
    if kind is str:
        body = _strict_text(value)
        if body is None:
            parts.append(json.dumps(value))
            return 0
        if in_array:
            return None
        parts.append(f"({body}\n)")
        return 1
    if kind is dict or kind is list:
        opening, closing = ("{", "}") if kind is dict else ("[", "]")
        items = value.items() if kind is dict else ((None, item) for item in value)
        parts.append(opening)
        count = 0
        for index, (key, item) in enumerate(items):
            if index:
                parts.append(", ")
            if key is not None:
                parts.append(f"{json.dumps(str(key))}: ")
            found = _join(item, parts, in_array=in_array or kind is list)
            if found is None:
                return None
            count += found
        parts.append(closing)
        return count
    if value is None or kind is bool or (kind is int and abs(value) < _EXACT_INTEGERS):
        parts.append(json.dumps(value))
        return 0
    return None


def to_text(value: Any) -> str:
    """A value as text for places that need a string: strings as they are, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
