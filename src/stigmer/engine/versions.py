"""Shapes of older DSL 1.0.x documents that changed since, and what to tell their authors.

This engine runs documents against the DSL version of its official schema. A
document written for an older 1.0.x runtime may use a shape that has changed since; the
schema then rejects it with whatever branch of a `oneOf` fits least badly ("'container'
is a required property"), which names neither the field nor the change. Each known
change is listed here, and such a task gets one error that names the field, the shape it
had and the shape it has now.

Known changes:

- `run.shell.arguments` and `run.script.arguments` were a map of arguments up to DSL
  1.0.1; they are now a list of strings, passed to the process as its argv. A map has no
  single order or spelling as argv (`--key value`? `key=value`?), so it is refused rather
  than guessed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from stigmer.engine.pointers import json_pointer


def declared_version(document: Any) -> str | None:
    """The `document.dsl` a document declares, if it declares one."""
    header = document.get("document") if isinstance(document, dict) else None
    version = header.get("dsl") if isinstance(header, dict) else None
    return str(version) if version is not None else None


def older_shapes(
    task: Any, path: tuple[str | int, ...], *, declared: str | None, current: str
) -> Iterator[tuple[str, str]]:
    """The fields of a task written in a shape an older 1.0.x had, with what changed;
    `declared` is the document's DSL version, `current` the schema's."""
    run = task.get("run") if isinstance(task, dict) else None
    if not isinstance(run, dict):
        return
    says = f"; this document declares {declared}" if declared else ""
    for process in ("shell", "script"):
        definition = run.get(process)
        arguments = definition.get("arguments") if isinstance(definition, dict) else None
        if isinstance(arguments, dict):
            yield (
                json_pointer((*path, "run", process, "arguments")),
                f"'arguments' is a map, the shape of DSL 1.0.1 and earlier{says}. Since then "
                f"(this engine runs DSL {current}) it is a list of strings, passed to the "
                "process as its argv: write it as a list, e.g. [--name, value]",
            )
