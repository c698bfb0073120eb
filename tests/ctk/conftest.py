"""A worker for the conformance kit on the engine tests' time-skipping Temporal server, and
the loopback stand-in that answers for the public services its scenarios call."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from stigmer.client import Client
from stigmer.config import load_settings
from stigmer.engine import registry
from stigmer.engine.events import EMIT_EVENT_ACTIVITY
from stigmer.engine.tasktype import Services
from stigmer.workers import sandbox
from tests.standins.petstore import running_petstore
from tests.support.ctk_run import CtkRun, emit_event, record_progress
from tests.support.temporal import temporal_env

__all__ = ["temporal_env"]


@pytest.fixture(scope="session")
async def session_loop() -> asyncio.AbstractEventLoop:
    """The loop the session's async fixtures run on; the (synchronous) steps drive it."""
    return asyncio.get_running_loop()


@pytest.fixture(scope="session")
def public_services() -> Iterator[str]:
    """Base URL of the stand-in for petstore.swagger.io and httpbin.org."""
    with running_petstore() as base:
        yield base


@pytest.fixture(scope="session")
async def ctk_queue(
    temporal_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """The engine's activities from its registry; the kit's runs record their progress
    and emitted events in memory, where the steps read them (no API runs)."""
    queue = f"ctk-{uuid.uuid4()}"
    settings = load_settings(data_dir=tmp_path_factory.mktemp("ctk"))
    async with Client(settings.address) as api:
        activities = {
            **registry.activities(Services(settings, api)),
            EMIT_EVENT_ACTIVITY: emit_event,
        }
        async with Worker(
            temporal_env.client,
            task_queue=queue,
            workflows=[CtkRun],
            activities=[record_progress, *activities.values()],
            workflow_runner=sandbox(),
        ):
            yield queue
