"""The engine tests' Temporal: a time-skipping test server for the whole session.

Timers are skipped, so waits, retry delays and timeouts of minutes run in moments while
the workflow clock moves by the full amount. Tests that need real time, or the platform,
use the session's dev server (`temporal_server` in tests/conftest.py).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    server = Path(sys.prefix) / "bin" / "temporal-test-server"
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(server)
    ) as env:
        yield env
