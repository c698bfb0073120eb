"""The package's shape: no import cycle between modules or between parts, and no hand-written module over 500 lines.

Run it alone to check the structure: `pytest tests/test_structure.py`.
"""

from __future__ import annotations

from pathlib import Path

import stigmer
from tests.support.structure import cycles, hand_written_sizes, import_graph, part_graph

PACKAGE = Path(stigmer.__file__).resolve().parent
LONGEST_MODULE = 500


def test_the_package_has_no_import_cycle() -> None:
    graph = import_graph(PACKAGE)
    assert len(graph) > 150, sorted(graph)
    assert cycles(graph) == []


def test_the_parts_import_each_other_without_a_cycle() -> None:
    """Subpackages and top-level modules form layers: none reaches back into one above it."""
    assert cycles(part_graph(import_graph(PACKAGE))) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_hand_written_module_is_over_500_lines() -> None:
    sizes = hand_written_sizes(PACKAGE)
    assert {name: size for name, size in sizes.items() if size > LONGEST_MODULE} == {}
