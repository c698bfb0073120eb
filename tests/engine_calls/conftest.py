"""Workers running the engine's workflow with the call activities, on the session's
Temporal dev server (real time: the calls talk to real loopback servers)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from stigmer.config import Settings
from stigmer.engine.tasks.activities import CallActivities
from stigmer.engine.validation import parse_workflow
from stigmer.engine.workflow import WorkflowRunInput
from stigmer.local.embedded import EmbeddedTemporal
from stigmer.workers import sandbox
from tests.engine.document_only import DOCUMENT_ONLY, DocumentOnly
from tests.standins.petstore import running_petstore

HERE = Path(__file__).parent


@dataclass
class Engine:
    """Runs DSL documents on a worker with the call activities."""

    client: Client
    queue: str
    data_dir: Path

    async def run(self, document: str, input: Any = None) -> Any:
        return await self.client.execute_workflow(
            DOCUMENT_ONLY,
            WorkflowRunInput(f"test-{uuid.uuid4()}", parse_workflow(document), input),
            id=f"calls-{uuid.uuid4()}",
            task_queue=self.queue,
        )

    async def fault(self, document: str, input: Any = None) -> dict[str, Any]:
        """The DSL error object the document faults with."""
        with pytest.raises(WorkflowFailureError) as failure:
            await self.run(document, input)
        cause = failure.value.cause
        assert isinstance(cause, ApplicationError), cause
        error: dict[str, Any] = cause.details[0]
        return error


@pytest.fixture(scope="session")
async def temporal_client(temporal_server: EmbeddedTemporal) -> Client:
    return await Client.connect(temporal_server.address)


async def _engine(client: Client, data_dir: Path, *, allow: bool) -> AsyncIterator[Engine]:
    queue = f"calls-{uuid.uuid4()}"
    settings = Settings(data_dir=data_dir, allow_run_processes=allow)
    async with Worker(
        client,
        task_queue=queue,
        workflows=[DocumentOnly],
        activities=CallActivities(settings).all(),
        workflow_runner=sandbox(),
    ):
        yield Engine(client, queue, data_dir)


@pytest.fixture(scope="session")
async def engine(
    temporal_client: Client, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Engine]:
    """An engine whose workers allow processes, with a data dir for secrets."""
    async for found in _engine(temporal_client, tmp_path_factory.mktemp("calls"), allow=True):
        yield found


@pytest.fixture(scope="session")
async def locked_engine(
    temporal_client: Client, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Engine]:
    """An engine on default settings: processes are not allowed."""
    async for found in _engine(temporal_client, tmp_path_factory.mktemp("locked"), allow=False):
        yield found


@pytest.fixture(scope="session")
def petstore() -> Iterator[str]:
    with running_petstore() as base:
        yield base


def document(tasks: str, *, use: str = "") -> str:
    """A DSL document around a task list written as YAML (indented by four spaces)."""
    return (
        "document: {dsl: '1.0.3', namespace: test, name: calls, version: '0.1.0'}\n"
        + (f"use:\n{use}\n" if use else "")
        + f"do:\n{tasks}\n"
    )
