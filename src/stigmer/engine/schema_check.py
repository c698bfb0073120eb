"""A document against the official JSON schema: every problem, each where it is.

A task that fails the schema is checked against the branch of its own kind only (the
`oneOf` of every task type would otherwise report what a `set` or a `wait` lacks); inside
a branch, `jsonschema.exceptions.best_match` picks, among the failures of a `oneOf`, the
one of the branch the author meant. A shape an older DSL 1.0.x had is reported as such
(`stigmer.engine.versions`) instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError as SchemaError  # type: ignore[import-untyped]
from jsonschema.exceptions import best_match
from ruamel.yaml import YAML

from stigmer.engine import versions
from stigmer.engine.pointers import json_pointer
from stigmer.engine.tasktype import DSL_CALLS, TASK_KINDS, task_kind

Problems = Iterator[tuple[str, str]]
"""(JSON pointer, message) pairs."""


@cache
def _validator() -> Draft202012Validator:
    text = resources.files("stigmer.engine").joinpath("schema/workflow.yaml").read_text("utf-8")
    schema = YAML(typ="safe", pure=True).load(text)
    return Draft202012Validator(schema)


@cache
def schema_version() -> str:
    """The DSL version of the official schema (its `$id` names it)."""
    schema_id = str(_validator().schema["$id"])
    return schema_id.rsplit("/schemas/", 1)[-1].split("/", 1)[0]


def schema_problems(data: Any) -> Problems:
    """Every place where `data` does not fit the official schema."""
    yield from _against(_validator().schema, data, (), versions.declared_version(data))


def _against(
    schema: dict[str, Any], instance: Any, base: tuple[str | int, ...], declared: str | None
) -> Problems:
    task_def = _validator().schema["$defs"]["task"]
    errors = list(_validator().evolve(schema=schema).iter_errors(instance))
    tasks_seen: set[tuple[str | int, ...]] = set()
    for error in errors:
        relative = tuple(error.absolute_path)
        if error.schema is task_def:
            if relative not in tasks_seen:
                tasks_seen.add(relative)
                yield from _task_problems(_at(instance, relative), base + relative, declared)
        elif error.validator == "unevaluatedProperties" and (
            not relative or _has_deeper(errors, error)
        ):
            # Any failure beneath an object drops the annotations this keyword relies on,
            # so it then names every property; the real failures are reported instead.
            continue
        else:
            yield _describe(error, base)


def _task_problems(task: Any, path: tuple[str | int, ...], declared: str | None) -> Problems:
    pointer = json_pointer(path)
    kind = task_kind(task)
    if kind is None:
        yield pointer, f"a task needs exactly one of: {', '.join(TASK_KINDS)}"
        return
    older = list(versions.older_shapes(task, path, declared=declared, current=schema_version()))
    if older:
        yield from older
        return
    branch = _task_schema(kind, task)
    for key in sorted(set(task) - _known_properties(branch)):
        yield json_pointer((*path, key)), f"unknown property {key!r} for a {kind!r} task"
    yield from _against(branch, task, path, declared)


def _task_schema(kind: str, task: dict[str, Any]) -> dict[str, Any]:
    """The schema branch of the task's own kind, so errors speak about that kind only."""
    defs: dict[str, Any] = _validator().schema["$defs"]
    if kind != "call":
        branch: dict[str, Any] = defs[f"{kind}Task"]
        return branch
    call = task.get("call")
    index = DSL_CALLS.index(call) if call in DSL_CALLS else len(DSL_CALLS)
    branch = defs["callTask"]["oneOf"][index]
    return branch


def _known_properties(branch: dict[str, Any]) -> set[str]:
    defs = _validator().schema["$defs"]
    known = set(defs["taskBase"]["properties"])
    for part in branch.get("allOf", []):
        known.update(part.get("properties", {}))
    return known


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
    found = best_match([error], key=_branch_rank)
    return json_pointer(base + tuple(found.absolute_path)), found.message


def _branch_rank(error: SchemaError) -> tuple[bool, bool, int, tuple[str, ...], str]:
    """Rank the errors of `oneOf` branches, lowest first: the branch the author meant is
    the one that failed on something other than its type or its defining property, and
    deepest; among equals, the first branch, then the first message (so that the choice
    always descends to one error)."""
    wrong_type = error.validator == "type"
    wrong_kind = error.validator == "required" and not error.relative_path
    branch = tuple(
        f"{part:09d}" if isinstance(part, int) else part for part in error.relative_schema_path
    )
    return (wrong_type, wrong_kind, -len(error.relative_path), branch, error.message)
