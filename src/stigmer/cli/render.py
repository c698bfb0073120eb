"""How the CLI prints resources: `-o table` for people, `-o json|yaml` for programs.

The protobuf messages, YAML and table layout load inside the functions that use them,
so that a command pays only for the output it prints.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from google.protobuf.message import Message

    from stigmer.api.v1 import stigmer_pb2 as pb

# Piped output is read by programs and logs: tables keep their full width there.
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)
errors = Console(stderr=True, soft_wrap=True)


def error(message: object) -> None:
    """One error line on stderr. The message is printed as written: text from a file, the
    API or a model may hold brackets, which rich would otherwise read as markup."""
    errors.print(f"[red]error:[/] {escape(str(message))}", highlight=False)


def warning(message: object) -> None:
    """One warning line on stderr, printed as written (like `error`)."""
    errors.print(f"[yellow]warning:[/] {escape(str(message))}", highlight=False)


class Output(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


def as_dict(message: Message) -> dict[str, Any]:
    from stigmer.resources.values import to_json

    found: dict[str, Any] = to_json(message)
    return found


def definition_dict(definition: pb.Definition) -> dict[str, Any]:
    """A definition as the resource file that would apply it, plus what the server knows."""
    from stigmer.resources.api_version import API_VERSION
    from stigmer.resources.values import to_json

    metadata = as_dict(definition.metadata)
    metadata.update(
        version=definition.version,
        generation=definition.generation,
        created_at=definition.created_at.ToJsonString(),
        updated_at=definition.updated_at.ToJsonString(),
    )
    return {
        "apiVersion": API_VERSION,
        "kind": definition_kind(definition),
        "metadata": metadata,
        "spec": to_json(definition.spec),
    }


def definition_kind(definition: pb.Definition) -> str:
    """`Agent` or `Workflow`, as resource files name it."""
    from stigmer.api.v1 import stigmer_pb2 as pb

    return pb.DefinitionKind.Name(definition.kind).capitalize()


def execution_dict(execution: pb.Execution) -> dict[str, Any]:
    from stigmer.resources.executions import KIND_NAMES

    found = as_dict(execution)
    found["kind"] = KIND_NAMES.get(execution.spec.kind, "Execution")
    return found


def emit(data: Any, output: Output) -> None:
    """Machine-readable output goes to stdout untouched by rich."""
    if output == Output.yaml:
        from ruamel.yaml import YAML

        yaml = YAML()
        yaml.default_flow_style = False
        yaml.dump(data, sys.stdout)
    else:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    from rich.table import Table

    view = Table(title=title, title_justify="left")
    for column in columns:
        view.add_column(column)
    for row in rows:
        view.add_row(*row)
    console.print(view)


def phase(execution: pb.Execution) -> str:
    from stigmer.api.v1 import stigmer_pb2 as pb

    return pb.Phase.Name(execution.status.phase)


PHASE_STYLE = {
    "PENDING": "yellow",
    "IN_PROGRESS": "cyan",
    "COMPLETED": "green",
    "FAILED": "red",
    "CANCELLED": "magenta",
}


def styled_phase(execution: pb.Execution) -> str:
    name = phase(execution)
    return f"[{PHASE_STYLE.get(name, 'white')}]{name}[/]"
