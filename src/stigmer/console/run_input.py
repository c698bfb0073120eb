"""The run form's input, checked before anything is sent to the API.

A workflow's input must be JSON and, when the document declares an inline
`input.schema` (JSON Schema), valid against it: the person filling the form hears what
is wrong at once, instead of from a run that faults on its first step.
"""

from __future__ import annotations

import json
from typing import Any

from jsonschema import validators  # type: ignore[import-untyped]
from jsonschema.exceptions import SchemaError, best_match  # type: ignore[import-untyped]


class InputProblem(ValueError):
    """What is wrong with the input, in words for the form."""


def input_schema(document: dict[str, Any]) -> dict[str, Any] | None:
    """The workflow's inline JSON Schema for its input, if it declares one."""
    declared = document.get("input")
    schema = declared.get("schema") if isinstance(declared, dict) else None
    if not isinstance(schema, dict) or not isinstance(schema.get("document"), dict):
        return None
    if str(schema.get("format", "json")).split(":", 1)[0] != "json":
        return None
    found: dict[str, Any] = schema["document"]
    return found


def checked_input(text: str, schema: dict[str, Any] | None) -> Any:
    """The input as JSON data; raise InputProblem when it is not JSON or not valid."""
    if not text.strip():
        raise InputProblem("enter the input as JSON, e.g. {} for none")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputProblem(
            f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    if schema is None:
        return value
    try:
        cls = validators.validator_for(schema, default=validators.Draft202012Validator)
        cls.check_schema(schema)
    except SchemaError as exc:
        raise InputProblem(f"the workflow's input schema is not valid: {exc.message}") from None
    error = best_match(cls(schema).iter_errors(value))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path)
        raise InputProblem(f"does not match the input schema at /{where}: {error.message}")
    return value
