"""The bare-caller platform of the handshake tests (see `helpers.Callers`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.worker import Worker

from stigmer.handshake.caller import CallerActivities
from stigmer.local.embedded import EmbeddedTemporal
from stigmer.temporal import connect_temporal
from stigmer.workers import Workers, sandbox
from tests.conftest import running_platform
from tests.handshake.helpers import SCRIPTED, Callers, RawCaller


@pytest.fixture
async def callers(temporal_server: EmbeddedTemporal, tmp_path: Path) -> AsyncIterator[Callers]:
    async with running_platform(
        temporal_server,
        tmp_path / "data",
        queues=["engine", "runner"],
        reconcile_interval=timedelta(seconds=1),
        allow_files=[tmp_path],  # the scripted agent's `mark` files
    ) as platform:
        agents = Workers(platform.settings, ["agents"])
        await agents.start()
        temporal = await connect_temporal(platform.settings)
        queue = f"{platform.settings.queue_prefix}raw-stigmer-engine"
        caller = CallerActivities(platform.worker)
        await platform.client.apply("agent", "scripted", SCRIPTED)
        async with Worker(
            temporal,
            task_queue=queue,
            workflows=[RawCaller],
            activities=[caller.call_agent],
            workflow_runner=sandbox(),
        ):
            yield Callers(platform, queue, agents)
        await agents.stop()
