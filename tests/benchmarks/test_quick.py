"""Every benchmark's `--quick` mode runs and produces sane figures (never a timing goal)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_quick(name: str, out: Path) -> dict[str, Any]:
    """Run `python -m benchmarks.NAME --quick`; its JSON report, once its plot exists."""
    subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", "--quick", "--out", str(out)],
        cwd=ROOT,
        check=True,
        timeout=240,
    )
    assert (out / f"{name}.png").stat().st_size > 0
    report: dict[str, Any] = json.loads((out / f"{name}.json").read_text())
    assert report["command"] == f"python -m benchmarks.{name} --quick --out {out}"
    return report


@pytest.mark.timeout(300)
def test_scale(tmp_path: Path) -> None:
    figures = run_quick("scale", tmp_path)["figures"]
    assert figures["all completed"] is True
    assert figures["completed"] == figures["calls"] == figures["callbacks delivered"]
    assert 0 < figures["most engine slots in use"] <= figures["engine activity slots"]
    assert 0 < figures["most pending at once"] <= figures["calls"]
    assert all(v > 0 for k, v in figures.items() if k.startswith("peak memory MB"))


@pytest.mark.timeout(300)
def test_overhead(tmp_path: Path) -> None:
    report = run_quick("overhead", tmp_path)
    assert len(report["rows"]) == len(report["parameters"]["rates"])
    for row in report["rows"]:
        assert row["calls"] == row["delivered"] > 0
        assert math.isfinite(row["p50 ms"]) and row["p50 ms"] <= row["p99 ms"] <= row["max ms"]


@pytest.mark.timeout(300)
def test_alternatives(tmp_path: Path) -> None:
    report = run_quick("alternatives", tmp_path)
    rows = {row["mode"]: row for row in report["rows"]}
    assert set(rows) == {"handshake", "polling", "blocking", "bare", "temporal"}
    for row in rows.values():
        assert math.isfinite(row["added p50 ms"]) and row["calls/s"] > 0
        assert row["slots in use (peak)"] <= report["parameters"]["slots"]
    assert set(report["series"]) == set(rows)


@pytest.mark.timeout(300)
def test_throughput(tmp_path: Path) -> None:
    report = run_quick("throughput", tmp_path)
    assert len(report["rows"]) == 4
    for row in report["rows"]:
        assert row["completed"] == row["calls"] and row["calls/s"] > 0
    assert report["rows"][-2]["% of same shape"] == 100
    assert report["rows"][-1]["% of bare"] == 100
    assert "product / same shape (%)" in report["figures"]


@pytest.mark.postgres
@pytest.mark.timeout(300)
def test_replicas(tmp_path: Path) -> None:
    figures = run_quick("replicas", tmp_path)["figures"]
    assert figures["ends"] == 5
    assert 0 <= figures["p50 ms"] <= figures["max ms"]


@pytest.mark.timeout(300)
def test_cli_start(tmp_path: Path) -> None:
    report = run_quick("cli_start", tmp_path)
    assert {row["command"] for row in report["rows"]} >= {"stigmer --help", "stigmer list"}
    for row in report["rows"]:
        assert row["runs"] == 3
        assert min(row["cpu ms (median)"], row["wall ms (median)"]) > 0
        assert min(row["x yardstick (wall)"], row["yardstick wall ms"]) > 0
