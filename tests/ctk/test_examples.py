"""Every example of the specification through validation: what the engine runs validates;
the rest is rejected with a clear message, file and line, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from stigmer.engine.validation import validate_file
from tests.support.spec import spec_path

EXAMPLES = spec_path("examples")

MUST_VALIDATE = {
    "raise-inline.yaml",
    "raise-reusable.yaml",
    "run-subflow.yaml",
    "set.yaml",
    "set-expression.yaml",
    "switch-then-string.yaml",
    "wait-duration-inline.yaml",
    "wait-duration-iso8601.yaml",
}
"""Examples made only of constructs this engine runs."""


def _examples() -> list[Path]:
    return sorted(EXAMPLES.glob("*.yaml"))


def test_all_examples_are_covered() -> None:
    assert len(_examples()) > 50
    assert {path.name for path in _examples()} >= MUST_VALIDATE


@pytest.mark.parametrize("path", _examples(), ids=lambda path: path.name)
def test_example(path: Path) -> None:
    found = validate_file(path)
    if path.name in MUST_VALIDATE:
        assert found == [], found
    elif found:
        # A rejected example is rejected for what this engine does not run, said plainly.
        assert any("not supported by this engine yet" in e.message for e in found), found
        assert all(e.file == str(path) and e.line for e in found), found
