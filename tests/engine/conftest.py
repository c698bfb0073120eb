"""A worker for the engine's workflow on the session's time-skipping Temporal server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from stigmer.workers import sandbox
from tests.support.document_only import DocumentOnly
from tests.support.temporal import temporal_env

__all__ = ["temporal_env"]


@pytest.fixture(scope="session")
async def engine_queue(temporal_env: WorkflowEnvironment) -> AsyncIterator[str]:
    """A task queue served by a worker running the interpreter."""
    queue = f"engine-test-{uuid.uuid4()}"
    async with Worker(
        temporal_env.client, task_queue=queue, workflows=[DocumentOnly], workflow_runner=sandbox()
    ):
        yield queue
