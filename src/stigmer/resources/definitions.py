"""Agent and Workflow resource files: reading, validating and versioning them.

A file holds one or more YAML documents of the form
`{apiVersion: stigmer.dev/v1, kind: Agent|Workflow, metadata: {name}, spec: {...}}`.
A plain DSL document (with `document:` and `do:`) is taken as a Workflow named by
`document.name`. Every problem is reported with file, line and field, all at once; so is
every warning: what is valid but runs only where a worker's operator allows it
(`stigmer.permissions`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from stigmer.permissions import process_advice
from stigmer.resources.agent import AgentSpec, McpTool
from stigmer.resources.api_version import API_VERSION
from stigmer.resources.source import Document, SourceError, SourceErrors, files_in, read

KINDS = ("Agent", "Workflow")
NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,251}[a-z0-9])?$")

WorkflowCheck = Callable[[Document, Sequence[str | int]], list[SourceError]]
"""Validates the DSL document found at the given path of a Document (the engine's job);
the same shape reports its warnings."""


@dataclass
class Resource:
    kind: str
    name: str
    spec: dict[str, Any]
    metadata: dict[str, Any]
    file: str
    line: int
    warnings: list[SourceError] = dataclasses.field(default_factory=list)
    """What workers refuse unless their operator allows it (starting a process, ...)."""


def content_version(spec: dict[str, Any]) -> str:
    """The version of a definition: a hash of its canonical content."""
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def agent_spec_errors(spec: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems of an Agent spec as (path inside the spec, message)."""
    try:
        AgentSpec.model_validate(spec)
    except ValidationError as exc:
        return [(tuple(e["loc"]), e["msg"].removeprefix("Value error, ")) for e in exc.errors()]
    return []


def agent_spec_warnings(spec: AgentSpec) -> list[tuple[tuple[str | int, ...], str]]:
    """What a valid Agent spec starts on the runner, which refuses it unless its operator
    allows it, as (path inside the spec, message)."""
    return [
        (
            ("tools", index, "mcp", "command"),
            f"the MCP server {tool.mcp.name!r} starts {tool.mcp.command!r} on the runner, "
            f"which refuses it unless {process_advice(tool.mcp.command)}",
        )
        for index, tool in enumerate(spec.tools)
        if isinstance(tool, McpTool) and tool.mcp.command is not None
    ]


def name_error(name: Any) -> str | None:
    if not isinstance(name, str) or not name:
        return "is required"
    if not NAME.match(name):
        return (
            f"{name!r} must be lowercase letters, digits and '-', starting and ending alphanumeric"
        )
    return None


def parse_document(
    document: Document, check_workflow: WorkflowCheck, warn_workflow: WorkflowCheck | None = None
) -> Resource | list[SourceError]:
    data = document.data
    if not isinstance(data, dict):
        return [document.error([], "a resource must be a mapping")]
    if "document" in data and "do" in data and "kind" not in data:
        plain_workflow = _plain_workflow(document, data, check_workflow)
        if isinstance(plain_workflow, Resource) and warn_workflow is not None:
            plain_workflow.warnings = warn_workflow(document, [])
        return plain_workflow
    errors: list[SourceError] = []
    if data.get("apiVersion") != API_VERSION:
        errors.append(document.error(["apiVersion"], f"must be {API_VERSION!r}"))
    kind = data.get("kind")
    if kind not in KINDS:
        errors.append(document.error(["kind"], f"unknown kind {kind!r}; expected one of {KINDS}"))
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        errors.append(document.error(["metadata"], "is required (a mapping with `name`)"))
        metadata = {}
    if (problem := name_error(metadata.get("name"))) is not None:
        errors.append(document.error(["metadata", "name"], problem))
    errors.extend(_string_map_errors(document, metadata))
    spec = data.get("spec")
    if not isinstance(spec, dict):
        errors.append(document.error(["spec"], "is required (a mapping)"))
    elif kind == "Agent":
        for path, message in agent_spec_errors(spec):
            errors.append(document.error(["spec", *path], message))
    elif kind == "Workflow":
        errors.extend(check_workflow(document, ["spec"]))
    unknown = sorted(set(data) - {"apiVersion", "kind", "metadata", "spec"})
    if unknown:
        errors.append(document.error([unknown[0]], f"unknown field(s) {unknown}"))
    if errors:
        return errors
    assert isinstance(spec, dict) and isinstance(kind, str)
    extra = {k: v for k, v in metadata.items() if k in ("labels", "annotations")}
    if kind == "Agent":
        warnings = [
            document.error(["spec", *path], message)
            for path, message in agent_spec_warnings(AgentSpec.model_validate(spec))
        ]
    else:
        warnings = warn_workflow(document, ["spec"]) if warn_workflow is not None else []
    return Resource(
        kind, metadata["name"], spec, extra, document.file, document.start_line, warnings
    )


def _string_map_errors(document: Document, metadata: dict[str, Any]) -> list[SourceError]:
    """Labels and annotations are string to string, as the API stores them (`v: 2` is not)."""
    errors: list[SourceError] = []
    for field in ("labels", "annotations"):
        value = metadata.get(field)
        if value is None:
            continue
        if not isinstance(value, dict):
            errors.append(document.error(["metadata", field], "must be a mapping of strings"))
            continue
        for key, item in value.items():
            if not isinstance(item, str):
                errors.append(
                    document.error(["metadata", field, key], "must be a string (quote it)")
                )
    return errors


def _plain_workflow(
    document: Document, data: dict[str, Any], check_workflow: WorkflowCheck
) -> Resource | list[SourceError]:
    errors = check_workflow(document, [])
    name = data.get("document", {}).get("name") if isinstance(data.get("document"), dict) else None
    if (problem := name_error(name)) is not None:
        errors.append(document.error(["document", "name"], problem))
    if errors:
        return errors
    return Resource("Workflow", str(name), data, {}, document.file, document.start_line)


def load_resources(
    paths: Sequence[Path], check_workflow: WorkflowCheck, warn_workflow: WorkflowCheck | None = None
) -> list[Resource]:
    """Every resource in the given files and folders, or SourceErrors naming each problem;
    each with its warnings (a Workflow's from `warn_workflow`)."""
    resources: list[Resource] = []
    errors: list[SourceError] = []
    seen: dict[tuple[str, str], Resource] = {}
    for path in files_in(paths):
        try:
            documents = read(path)
        except SourceErrors as exc:
            errors.extend(exc.errors)
            continue
        if not documents:
            errors.append(SourceError(str(path), 0, "", "holds no resource"))
        for document in documents:
            parsed = parse_document(document, check_workflow, warn_workflow)
            if isinstance(parsed, list):
                errors.extend(parsed)
                continue
            first = seen.get((parsed.kind, parsed.name))
            if first is not None:
                errors.append(
                    document.error(
                        ["metadata", "name"],
                        f"{parsed.kind} {parsed.name!r} is also defined at {first.file}:{first.line}",
                    )
                )
                continue
            seen[(parsed.kind, parsed.name)] = parsed
            resources.append(parsed)
    if errors:
        raise SourceErrors(errors)
    return resources
