"""`input.schema`, `output.schema` and `export.schema`: JSON Schema checks of the data flow.

Validation is deterministic, so it runs in workflow code. The validator class follows the
schema's own `$schema` (draft 2020-12 when it names none). External schema resources
(`schema.resource`) are refused by document validation: the engine makes no downloads.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from temporalio import workflow

from stigmer.contract.problems import VALIDATION, Fault, Problem
from stigmer.engine.pointers import json_pointer

with workflow.unsafe.imports_passed_through():
    # Loads its metaschemas from package files on import: done once, outside the sandbox.
    from jsonschema import validators  # type: ignore[import-untyped]
    from jsonschema.exceptions import SchemaError, best_match  # type: ignore[import-untyped]

FORMATS = ("json",)
"""Schema formats this engine checks; a version may follow the format (`json:2020-12`)."""


def schema_problem(schema: Any) -> str | None:
    """Why a `schema` object cannot be used to validate, or None when it can."""
    if not isinstance(schema, dict):
        return None  # the official schema reports the shape
    fmt = str(schema.get("format", "json")).split(":", 1)[0]
    if fmt not in FORMATS:
        return f"schema format {fmt!r} is not supported; use {', '.join(FORMATS)}"
    if "resource" in schema and "document" not in schema:
        return "an external schema resource is not supported by this engine yet; inline it as 'document'"
    document = schema.get("document")
    try:
        _validator(json.dumps(document, sort_keys=True))
    except SchemaError as exc:
        return f"invalid JSON schema: {exc.message}"
    return None


@lru_cache(maxsize=256)
def _validator(text: str) -> Any:
    document = json.loads(text)
    cls = validators.validator_for(document, default=validators.Draft202012Validator)
    cls.check_schema(document)
    return cls(document)


def check(config: Mapping[str, Any] | None, value: Any, *, what: str, instance: str) -> None:
    """Fault with the spec's validation error when `value` does not match `config.schema`.

    `config` is an `input`, `output` or `export` object; `what` names the checked value.
    """
    schema = (config or {}).get("schema")
    if schema is None:
        return
    validator = _validator(json.dumps(schema.get("document"), sort_keys=True))
    error = best_match(validator.iter_errors(value))
    if error is None:
        return
    where = json_pointer(error.absolute_path) or "/"
    raise Fault(
        Problem.of(
            VALIDATION,
            f"{what} does not match its schema at {where}: {error.message}",
            title="Schema validation failed",
            instance=instance,
        )
    )
