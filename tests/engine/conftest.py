"""A Temporal test server and a worker for the engine's workflow, shared by the session."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from stigmer.workers import sandbox
from tests.engine.document_only import DocumentOnly


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    server = Path(sys.prefix) / "bin" / "temporal-test-server"
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(server)
    ) as env:
        yield env


@pytest.fixture(scope="session")
async def engine_queue(temporal_env: WorkflowEnvironment) -> AsyncIterator[str]:
    """A task queue served by a worker running the interpreter."""
    queue = f"engine-test-{uuid.uuid4()}"
    async with Worker(
        temporal_env.client, task_queue=queue, workflows=[DocumentOnly], workflow_runner=sandbox()
    ):
        yield queue
