"""The fault matrix of docs/operations.md, one test per row (see `tests.faults.matrix`).

The rows run at once, each on a platform of its own processes, so that their outages
overlap instead of adding up; each test waits for its own row and reports its figures.
Any failure shows the row's process logs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from stigmer.local.embedded import EmbeddedTemporal
from tests.faults.matrix import PER_MOMENT, Figures, Row

PARTS = ("api", "engine", "agents", "runner", "temporal", "sqlite", "postgres")
ROW_SECONDS = 900.0

pytestmark = pytest.mark.timeout(ROW_SECONDS + 60)


class Matrix:
    def __init__(self, rows: dict[str, Row]) -> None:
        self.rows = rows
        self.runs = {part: asyncio.create_task(row.run()) for part, row in rows.items()}

    async def figures(self, part: str) -> list[Figures]:
        try:
            return await asyncio.wait_for(asyncio.shield(self.runs[part]), ROW_SECONDS)
        except BaseException as exc:
            raise AssertionError(f"{part} row: {exc}\n{self.rows[part].logs()}") from exc


@pytest.fixture(scope="module")
async def matrix(
    request: pytest.FixtureRequest,
    temporal_server: EmbeddedTemporal,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Matrix]:
    """Every selected row, started at once."""
    selected = {
        item.callspec.params["part"]
        for item in request.session.items
        if isinstance(item, pytest.Function) and item.module is request.module
    }
    root = Path(tmp_path_factory.mktemp("matrix"))
    starting = asyncio.Semaphore(2)
    rows = {
        part: Row(part, root / part, temporal_server, starting)
        for part in PARTS
        if part in selected
    }
    started = Matrix(rows)
    try:
        yield started
    finally:
        for run in started.runs.values():
            run.cancel()
        await asyncio.gather(*started.runs.values(), return_exceptions=True)
        await asyncio.gather(*(row.close() for row in rows.values()), return_exceptions=True)


@pytest.mark.parametrize("part", PARTS)
async def test_every_call_ends_once_when_a_part_fails(matrix: Matrix, part: str) -> None:
    figures = await matrix.figures(part)
    for found in figures:
        print(f"\n{found.line()}")
        assert found.completed == found.calls
        if part in ("api", "engine", "agents", "sqlite", "postgres"):
            # Nothing of the agent's own runs on these parts: each body runs once.
            assert all(runs == PER_MOMENT for runs in found.body_runs.values()), found.body_runs
