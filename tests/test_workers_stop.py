"""Stopping the workers takes at most their grace, even when one never finishes shutting down."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from stigmer import workers
from stigmer.config import load_settings


class NeverShutsDown:
    """A worker whose shutdown waits on a poll that never ends (a race in Temporal's core)."""

    async def shutdown(self) -> None:
        await asyncio.Event().wait()


async def test_a_worker_that_never_shuts_down_is_stopped_after_the_grace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workers, "SHUTDOWN_GRACE", 0.2)
    running = workers.Workers(load_settings(data_dir=tmp_path), ["engine"])
    running.workers = [NeverShutsDown()]  # type: ignore[list-item]
    polling: asyncio.Task[Any] = asyncio.create_task(asyncio.Event().wait())
    running.tasks = [polling]
    await asyncio.wait_for(running.stop(), 5)
    assert polling.cancelled() and running.workers == []
