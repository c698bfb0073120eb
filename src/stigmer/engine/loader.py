"""Load a DSL document from YAML or JSON, remembering where each node was written.

ruamel.yaml's round-trip loader records the line and column of every key and item; they are
kept in a JSON-pointer index beside plain `dict`/`list` data, so the rest of the engine works
on ordinary JSON values while errors can still say "file.yaml:12". JSON is parsed by the same
loader (it is YAML 1.2 flow syntax), so both formats get positions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.parser import ParserError
from ruamel.yaml.scalarbool import ScalarBoolean
from ruamel.yaml.scanner import ScannerError

from stigmer.engine.pointers import json_pointer

Position = tuple[int, int]
"""1-based (line, column)."""


class LoadError(Exception):
    """The text is not a YAML/JSON document the engine can read."""

    def __init__(self, message: str, *, source: str, line: int | None = None) -> None:
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {message}")
        self.message = message
        self.source = source
        self.line = line


@dataclass(frozen=True)
class Document:
    """A loaded document: plain JSON-like data plus the position of every node."""

    data: Any
    source: str
    """The file it came from, or a label such as `<string>`."""
    positions: dict[str, Position] = field(default_factory=dict)
    """JSON pointer -> where the node (for a mapping entry: its key) starts."""

    def position(self, pointer: str) -> Position | None:
        """Where `pointer` was written, or its nearest written ancestor."""
        while True:
            found = self.positions.get(pointer)
            if found is not None or not pointer:
                return found
            pointer = pointer.rsplit("/", 1)[0]

    def line(self, pointer: str) -> int | None:
        """The 1-based line of `pointer` (or of its nearest written ancestor)."""
        found = self.position(pointer)
        return found[0] if found else None


def load_text(text: str, *, source: str = "<string>") -> Document:
    """Parse YAML or JSON text."""
    yaml = YAML(typ="rt")
    try:
        node = yaml.load(text)
    except MarkedYAMLError as exc:
        problem, line = _error(exc)
        raise LoadError(problem, source=source, line=line) from None
    except YAMLError as exc:
        raise LoadError(str(exc), source=source) from None
    positions: dict[str, Position] = {"": (1, 1)}
    data = _plain(node, "", positions, source)
    return Document(data=data, source=source, positions=positions)


def _error(exc: MarkedYAMLError) -> tuple[str, int | None]:
    """What went wrong, and the line to point an author at. A construct left open (a `[`,
    a `{`, a quote) is only found where the text stops making sense, often the end of the
    file: such an error names the line where the construct opened, and says where it
    showed; any other error names its own line."""
    problem = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
    opened, found = exc.context_mark, exc.problem_mark
    if isinstance(exc, ParserError | ScannerError) and opened is not None:
        if found is not None and found.line != opened.line:
            problem += f" (it shows on line {found.line + 1})"
        return problem, opened.line + 1
    mark = found or opened
    return problem, mark.line + 1 if mark is not None else None


def load_path(path: str | Path) -> Document:
    """Read and parse a YAML or JSON file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError(f"cannot read file: {exc}", source=str(path)) from None
    return load_text(text, source=str(path))


def _plain(node: Any, pointer: str, positions: dict[str, Position], source: str) -> Any:
    """Convert ruamel's node types to JSON values, recording positions on the way."""
    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key, value in node.items():
            name = key if isinstance(key, str) else json.dumps(_scalar(key, pointer, source))
            child = pointer + json_pointer([name])
            line, column = node.lc.key(key)
            positions[child] = (line + 1, column + 1)
            out[name] = _plain(value, child, positions, source)
        return out
    if isinstance(node, CommentedSeq):
        items: list[Any] = []
        for index, value in enumerate(node):
            child = f"{pointer}/{index}"
            line, column = node.lc.item(index)
            positions[child] = (line + 1, column + 1)
            items.append(_plain(value, child, positions, source))
        return items
    return _scalar(node, pointer, source)


def _scalar(value: Any, pointer: str, source: str) -> Any:
    if value is None or type(value) is bool:
        return value
    if isinstance(value, ScalarBoolean):
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, datetime | date):
        # JSON has no dates; the DSL's own date-times are ISO 8601 strings.
        return value.isoformat()
    raise LoadError(
        f"value at {pointer or '/'} of YAML type {type(value).__name__} has no JSON equivalent",
        source=source,
    )
