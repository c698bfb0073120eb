"""The package's import graph, read from its source: what imports what, and its cycles.

Every import counts, at module level or inside a function: an import made on use to
dodge a cycle is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

GENERATED = "Do not edit"
"""Generated modules say so in their first lines; they are exempt from the size limit."""


def modules(root: Path) -> dict[str, Path]:
    """Module name -> file, for every module under the package directory `root`."""
    base = root.parent

    def name(path: Path) -> str:
        parts = path.relative_to(base).with_suffix("").parts
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    return {name(path): path for path in sorted(root.rglob("*.py"))}


def imports_of(path: Path, known: dict[str, Path]) -> set[str]:
    """The known modules `path` imports, wherever in the file the import is."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            # `from pkg import sub` imports the module `pkg.sub` when there is one.
            subs = [f"{node.module}.{alias.name}" for alias in node.names]
            names = [sub for sub in subs if sub in known] or [node.module]
        else:
            continue
        found.update(name for name in names if name in known)
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    known = modules(root)
    return {name: imports_of(path, known) - {name} for name, path in known.items()}


def part_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The same graph between the package's parts: its subpackages and top-level modules."""

    def part(name: str) -> str:
        return ".".join(name.split(".")[:2])

    parts: dict[str, set[str]] = {}
    for name, targets in graph.items():
        parts.setdefault(part(name), set()).update(part(target) for target in targets)
    return {name: targets - {name} for name, targets in parts.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found by a depth-first walk, each as the modules along it."""
    found: list[list[str]] = []
    state: dict[str, str] = {}
    trail: list[str] = []

    def visit(name: str) -> None:
        state[name] = "open"
        trail.append(name)
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                found.append([*trail[trail.index(target) :], target])
            elif target not in state:
                visit(target)
        trail.pop()
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name)
    return found


def hand_written_sizes(root: Path) -> dict[str, int]:
    """Lines of every module under `root` that is not generated."""
    sizes = {}
    for name, path in modules(root).items():
        text = path.read_text("utf-8")
        if GENERATED not in text[:600] and "_pb2" not in path.name:
            sizes[name] = len(text.splitlines())
    return sizes
