"""`stigmer apply|get|list|delete|validate`: Agent and Workflow definitions.

The engine's validation and the resource loader load inside the commands that read
files, so that `stigmer list` and `get` pay only for the API call.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from stigmer.cli.common import call_api
from stigmer.cli.render import (
    Output,
    console,
    definition_dict,
    definition_kind,
    emit,
    error,
    errors,
    table,
    warning,
)

if TYPE_CHECKING:
    from stigmer.api.v1 import stigmer_pb2 as pb
    from stigmer.client import Client
    from stigmer.engine.validation import Finding, Review
    from stigmer.resources.source import Document, SourceError

KIND = typer.Argument(help="agent or workflow", show_default=False)
OUTPUT = typer.Option("-o", "--output", help="table, json or yaml")


def register(app: typer.Typer) -> None:
    app.command()(apply)
    app.command()(get)
    app.command("list")(list_definitions)
    app.command()(delete)
    app.command()(validate)


def workflow_errors(document: Document, at: Sequence[str | int]) -> list[SourceError]:
    """The engine's validation of the DSL document found at `at`, with file lines."""
    return _in_file(document, at, _review(document, at).errors)


def workflow_warnings(document: Document, at: Sequence[str | int]) -> list[SourceError]:
    """What the DSL document found at `at` does that workers refuse unless allowed."""
    return _in_file(document, at, _review(document, at).warnings)


def _review(document: Document, at: Sequence[str | int]) -> Review:
    from stigmer.engine.loader import Document as DslDocument
    from stigmer.engine.validation import review_document

    node = document.data
    for part in at:
        node = node[part]
    return review_document(DslDocument(data=node, source=document.file))


def _in_file(
    document: Document, at: Sequence[str | int], findings: Sequence[Finding]
) -> list[SourceError]:
    from stigmer.resources.source import SourceError, pointer

    found = []
    for problem in findings:
        parts = [int(p) if p.isdigit() else p for p in problem.path.split("/")[1:]]
        where = [*at, *parts]
        # The field is named where it is in the file, like every other resource error.
        found.append(
            SourceError(
                document.file, document.line_of(where), pointer(where) or "/", problem.message
            )
        )
    return found


def _singular(kind: str) -> str:
    name = kind.lower().removesuffix("s")
    if name not in ("agent", "workflow"):
        raise typer.BadParameter(f"unknown kind {kind!r}; expected agent or workflow")
    return name


def apply(
    ctx: typer.Context,
    file: Annotated[
        list[Path], typer.Option("-f", "--file", help="Resource file or folder.", exists=True)
    ],
    output: Annotated[Output, OUTPUT] = Output.table,
) -> None:
    """Create or update Agents and Workflows from YAML files; nothing is applied on error."""
    from stigmer.resources.definitions import load_resources
    from stigmer.resources.source import SourceErrors

    try:
        resources = load_resources(file, workflow_errors, workflow_warnings)
    except SourceErrors as exc:
        for found in exc.errors:
            error(found)
        raise typer.Exit(1) from None
    for resource in resources:
        for found in resource.warnings:
            warning(found)

    async def work(client: Client) -> list[tuple[str, str, str, bool]]:
        applied = []
        for resource in resources:
            response = await client.apply(
                resource.kind, resource.name, resource.spec, labels=resource.metadata.get("labels")
            )
            applied.append(
                (resource.kind, resource.name, response.definition.version, response.changed)
            )
        return applied

    applied = call_api(ctx, work)
    if output != Output.table:
        emit([{"kind": k, "name": n, "version": v, "changed": c} for k, n, v, c in applied], output)
        return
    for kind, name, version, changed in applied:
        verb = "applied" if changed else "unchanged"
        console.print(f"{kind.lower()}/{name} {verb} (version {version})")


def get(
    ctx: typer.Context,
    kind: Annotated[str, KIND],
    name: Annotated[str, typer.Argument(show_default=False)],
    version: Annotated[str, typer.Option(help="A past version (content hash).")] = "",
    output: Annotated[Output, OUTPUT] = Output.yaml,
) -> None:
    """Show one Agent or Workflow."""
    found = call_api(ctx, lambda client: client.get(_singular(kind), name, version))
    if output == Output.table:
        table(kind, ["NAME", "VERSION", "GENERATION", "UPDATED"], [_row(found)])
    else:
        emit(definition_dict(found), output)


def list_definitions(
    ctx: typer.Context,
    kind: Annotated[
        str | None, typer.Argument(help="agents or workflows; all when omitted")
    ] = None,
    output: Annotated[Output, OUTPUT] = Output.table,
) -> None:
    """List Agents and Workflows."""
    found = call_api(ctx, lambda client: client.list(_singular(kind) if kind else None))
    if output != Output.table:
        emit([definition_dict(d) for d in found], output)
        return
    rows = [[definition_kind(d), *_row(d)] for d in found]
    table("definitions", ["KIND", "NAME", "VERSION", "GENERATION", "UPDATED"], rows)


def delete(
    ctx: typer.Context,
    kind: Annotated[str, KIND],
    name: Annotated[str, typer.Argument(show_default=False)],
) -> None:
    """Delete an Agent or Workflow (executions keep the version they ran)."""
    call_api(ctx, lambda client: client.delete(_singular(kind), name))
    console.print(f"{_singular(kind)}/{name} deleted")


def validate(
    files: Annotated[list[Path], typer.Argument(help="DSL workflow files.", exists=True)],
) -> None:
    """Validate DSL workflow files, or resource files (Agents, Workflows) as apply reads
    them; every problem is reported with file, line and task, and so is, as a warning,
    what workers refuse unless their operator allows it."""
    failed = 0
    for path in files:
        problems, warnings = _review_any(path)
        for found in warnings:
            warning(found)
        if problems:
            failed += 1
            for problem in problems:
                error(problem)
        else:
            console.print(f"[green]ok[/] {escape(str(path))}", highlight=False)
    if failed:
        errors.print(f"{failed} of {len(files)} file(s) invalid")
        raise typer.Exit(1)


def _review_any(path: Path) -> tuple[Sequence[object], Sequence[object]]:
    """The problems and warnings of a DSL document, or of a file of resources."""
    from stigmer.engine.validation import review_file
    from stigmer.resources.definitions import load_resources
    from stigmer.resources.source import SourceErrors, read

    try:
        documents = read(path)
    except SourceErrors:
        documents = []  # not YAML: the DSL review says where
    if any(isinstance(document.data, dict) and "kind" in document.data for document in documents):
        try:
            resources = load_resources([path], workflow_errors, workflow_warnings)
        except SourceErrors as exc:
            return exc.errors, []
        return [], [found for resource in resources for found in resource.warnings]
    review = review_file(path)
    return review.errors, review.warnings


def _row(definition: pb.Definition) -> list[str]:
    """A table row read off the message: converting the whole spec would cost more."""
    return [
        definition.metadata.name,
        definition.version,
        str(definition.generation),
        definition.updated_at.ToJsonString(),
    ]
