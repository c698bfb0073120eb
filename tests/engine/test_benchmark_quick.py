"""The engine benchmark's `--quick` mode runs and its figures are sane (never a timing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.benchmarks.test_quick import run_quick


@pytest.mark.timeout(300)
def test_engine(tmp_path: Path) -> None:
    report = run_quick("engine", tmp_path)
    figures = report["figures"]
    assert figures["set loop output right"] is True
    assert figures["wait loop completed"] is True
    rows = report["rows"]
    assert [row["tasks"] for row in rows] == [1, 300, 40]
    assert all(row["wall s"] > 0 and row["history events"] > 0 for row in rows)
    assert rows[1]["events/task"] < 1  # a set task adds no event of its own
