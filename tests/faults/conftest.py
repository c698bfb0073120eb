"""Fixtures of the process-level fault tests: a platform of real OS processes per test,
on each store: SQLite in its data dir, and a private database on the shared PostgreSQL.

When a test fails, the tails of its processes' logs are added to the failure report,
since what went wrong usually shows only in a process the test could not see into.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from pathlib import Path

import pytest

from stigmer.local.embedded import EmbeddedTemporal
from tests.faults.processes import LOGS_KEY, ProcessPlatform, started
from tests.support.postgres import private_database


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        for platform in item.stash.get(LOGS_KEY, []):
            report.sections.append(("process logs", platform.logs()))
    return report


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest) -> AsyncIterator[str | None]:
    """The store's URL: None for SQLite in the data dir, or an empty PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    async with private_database() as url:
        yield url


@pytest.fixture
async def processes(
    request: pytest.FixtureRequest,
    temporal_server: EmbeddedTemporal,
    tmp_path: Path,
    database_url: str | None,
) -> AsyncIterator[ProcessPlatform]:
    """The API and the engine, agents and runner workers as processes on the session's Temporal."""
    async with started(
        request, temporal_server.address, tmp_path, database_url=database_url
    ) as platform:
        yield platform
