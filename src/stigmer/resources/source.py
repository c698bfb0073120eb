"""YAML and JSON text with the line of every node kept, so errors can say where."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

Path_ = Sequence[str | int]


@dataclass(frozen=True)
class SourceError:
    """One problem in a file: where it is and what is wrong."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class SourceErrors(ValueError):
    """Every problem found, reported at once."""

    def __init__(self, errors: Sequence[SourceError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(error) for error in self.errors))


@dataclass
class Document:
    """One YAML document of a file: its plain data and a way back to its lines."""

    file: str
    node: Any
    start_line: int

    @property
    def data(self) -> Any:
        return plain(self.node)

    def line_of(self, path: Path_) -> int:
        """1-based line of the deepest node of `path` that exists."""
        node, line = self.node, self.start_line
        for part in path:
            if isinstance(node, CommentedMap) and part in node:
                line = node.lc.key(part)[0] + 1
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                line = node.lc.item(part)[0] + 1
                node = node[part]
            else:
                break
        return line

    def error(self, path: Path_, message: str) -> SourceError:
        return SourceError(self.file, self.line_of(path), pointer(path), message)


def pointer(path: Path_) -> str:
    """A JSON pointer, the spec's way of naming a place in a document."""
    return "".join(f"/{part}" for part in path)


def plain(node: Any) -> Any:
    """ruamel's commented containers as plain dicts and lists."""
    if isinstance(node, dict):
        return {str(key): plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [plain(item) for item in node]
    return node


def parse(text: str, file: str) -> list[Document]:
    """All documents of a YAML (or JSON, a subset of YAML) text."""
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        nodes = list(yaml.load_all(StringIO(text)))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        raise SourceErrors([SourceError(file, line, "", f"not valid YAML: {exc.problem}")]) from exc
    return [
        Document(file, node, node.lc.line + 1 if hasattr(node, "lc") else 1)
        for node in nodes
        if node is not None
    ]


def read(path: Path) -> list[Document]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceErrors([SourceError(str(path), 0, "", f"cannot read: {exc}")]) from exc
    return parse(text, str(path))


def files_in(paths: Sequence[Path]) -> Iterator[Path]:
    """The given files, and the YAML/JSON files under the given folders, in a stable order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.suffix in {".yaml", ".yml", ".json"} and p.is_file()
            )
        else:
            yield path
