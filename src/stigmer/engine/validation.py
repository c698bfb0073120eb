"""Validate a DSL document: the official JSON schema, then what the schema cannot express.

All problems are collected and returned together, each with file, line, the task it is in
and the JSON pointer of the offending node, so an author fixes a document in one pass.
The schema's part is `schema_check`; what every task has in common is `checks`; what a
task's own kind needs is its type's (`stigmer.engine.registry`). The API validates with
the same functions on apply and create, so what passes here runs, except what the worker
refuses unless its operator allows it (starting a process, reading a file:
`stigmer.permissions`), which a review reports as warnings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from stigmer.engine.checks import Checker
from stigmer.engine.loader import Document, LoadError, load_path, load_text
from stigmer.engine.schema_check import schema_problems


@dataclass(frozen=True)
class Finding:
    """Something found in a document, and where."""

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


@dataclass(frozen=True)
class ValidationError(Finding):
    """One problem in a document."""


@dataclass(frozen=True)
class ValidationWarning(Finding):
    """Something valid that engine workers run only if their operator allows it."""


@dataclass(frozen=True)
class Review:
    """Every problem of a document, and every warning."""

    errors: list[ValidationError]
    warnings: list[ValidationWarning]


class WorkflowInvalidError(Exception):
    """A document failed validation; `errors` holds every problem found."""

    def __init__(self, errors: list[ValidationError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def validate_file(path: str | Path) -> list[ValidationError]:
    """Every problem in the YAML/JSON file at `path` (empty when it is valid)."""
    return review_file(path).errors


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
    return review_document(document).errors


def review_file(path: str | Path) -> Review:
    """Every problem and warning of the YAML/JSON file at `path`."""
    try:
        document = load_path(path)
    except LoadError as exc:
        return Review([_load_failure(exc)], [])
    return review_document(document)


def review_document(document: Document) -> Review:
    """Every problem and warning of a loaded document, each in document order."""
    against_schema = list(schema_problems(document.data))
    faulted = {_task_of(path) for path, _ in against_schema}
    checker = Checker(document.data, faulted)
    found = [*against_schema, *checker.problems()]
    return Review(
        _located(ValidationError, document, found),
        _located(ValidationWarning, document, checker.warned),
    )


F = TypeVar("F", bound=Finding)


def _located(kind: type[F], document: Document, found: list[tuple[str, str]]) -> list[F]:
    """Each (pointer, message) once, with its line and task, in document order."""
    located = [
        kind(document.source, document.line(path), _task_of(path), path, message)
        for path, message in dict.fromkeys(found)
    ]
    return sorted(located, key=lambda f: (f.line or 0, f.path))


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
