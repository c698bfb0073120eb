"""Loading YAML and JSON with the position of every node."""

from __future__ import annotations

from pathlib import Path

import pytest

from stigmer.engine.loader import LoadError, load_path, load_text


def test_yaml_positions_by_pointer() -> None:
    doc = load_text("a: 1\nb:\n  - x: 2\n    y: [1, 2]\n  - 2024-01-01\n")
    assert doc.data == {"a": 1, "b": [{"x": 2, "y": [1, 2]}, "2024-01-01"]}
    assert type(doc.data["a"]) is int
    assert doc.line("/b/0/y/1") == 4
    assert doc.position("/b/0/y/1") == (4, 12)
    assert doc.line("/b/1") == 5
    assert doc.line("/b/0/missing/deeper") == 3


def test_json_text_has_positions_too(tmp_path: Path) -> None:
    path = tmp_path / "wf.json"
    path.write_text('{\n  "do": [\n    {"a": {"set": {"x": 1}}}\n  ]\n}\n')
    doc = load_path(path)
    assert doc.data == {"do": [{"a": {"set": {"x": 1}}}]}
    assert doc.source == str(path)
    assert doc.line("/do/0/a/set/x") == 3


def test_pointer_escapes_slash_and_tilde() -> None:
    doc = load_text("do:\n  - a/b~c:\n      set: {x: 1}\n")
    assert doc.line("/do/0/a~1b~0c/set") == 3


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("a: 1\na: 2\n", 2, "duplicate key"),
        ("a: [1\n", 1, "expected ','"),
        # dsl-reference.md, nothing specific; the YAML library marks where the unclosed
        # construct opened, which is the line an author must fix.
        ("document: {}\ndo:\n  - a:\n      set:\n        list: [1, 2\n", 5, "flow sequence"),
        ("a: {b: 1\nc: 2\n", 1, "flow mapping"),
        ("a: 'open\nb: 2\n", 1, "quoted scalar"),
        ("a: !!binary aGVsbG8=\n", None, "no JSON equivalent"),
    ],
)
def test_load_errors_name_the_line(text: str, line: int | None, fragment: str) -> None:
    with pytest.raises(LoadError) as caught:
        load_text(text, source="wf.yaml")
    assert caught.value.line == line
    assert fragment in caught.value.message


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="cannot read file"):
        load_path(tmp_path / "missing.yaml")
