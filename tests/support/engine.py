"""Running DSL documents in the engine's tests: on the time-skipping server, or on the dev
server with a worker that has every task type's activities."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from stigmer.client import Client as ApiClient
from stigmer.config import Settings
from stigmer.contract import problems
from stigmer.contract.inputs import WorkflowRunInput
from stigmer.contract.problems import Problem
from stigmer.engine import registry
from stigmer.engine.tasktype import Services
from stigmer.engine.validation import parse_workflow
from stigmer.workers import sandbox
from tests.support.document_only import DOCUMENT_ONLY, DocumentOnly

HEADER = "document: {dsl: '1.0.3', namespace: default, name: test, version: '1.0.0'}\n"

ELAPSED = "${ (now - $workflow.startedAt.epoch.seconds) | floor }"
"""Whole seconds of workflow time since the run started."""


async def run(env: WorkflowEnvironment, queue: str, text: str, input: Any = None) -> Any:
    """Validate `text` (as the server does on apply), then run it through Temporal."""
    document = parse_workflow(text)
    execution_id = str(uuid.uuid4())
    return await env.client.execute_workflow(
        DOCUMENT_ONLY,
        WorkflowRunInput(execution_id=execution_id, document=document, input=input),
        id=f"workflow-execution/{execution_id}",
        task_queue=queue,
    )


async def outcome(env: WorkflowEnvironment, queue: str, body: str, input: Any = None) -> Any:
    """Run `body` after the header; `<elapsed>` stands for `ELAPSED`."""
    return await run(env, queue, HEADER + body.replace("<elapsed>", ELAPSED), input)


async def fault(env: WorkflowEnvironment, queue: str, body: str, input: Any = None) -> Problem:
    """The DSL error a document faults with."""
    with pytest.raises(WorkflowFailureError) as caught:
        await outcome(env, queue, body, input)
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError), cause
    return problems.from_application_error(cause)


def timers_took(seconds: int, elapsed: int) -> bool:
    """The workflow clock moved by the timers' `seconds`, plus at most the few real seconds
    the steps between timers took on a busy machine (the test server skips only timers)."""
    return seconds <= elapsed <= seconds + 3


def document(tasks: str, *, use: str = "") -> str:
    """A DSL document around a task list written as YAML (indented by four spaces)."""
    return (
        "document: {dsl: '1.0.3', namespace: test, name: calls, version: '0.1.0'}\n"
        + (f"use:\n{use}\n" if use else "")
        + f"do:\n{tasks}\n"
    )


@dataclass
class Engine:
    """Runs DSL documents on a worker with every task type's activities."""

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


@asynccontextmanager
async def running_engine(
    client: Client,
    data_dir: Path,
    *,
    allow_processes: Sequence[str] = (),
    allow_files: Sequence[Path] = (),
) -> AsyncIterator[Engine]:
    """A worker of the engine's workflow and the activities the registry lists, allowing
    definitions these commands and the files of these directories. No API runs: the task
    types that reach it (`call: agent`, `emit`, ...) are not used here."""
    queue = f"calls-{uuid.uuid4()}"
    settings = Settings(
        data_dir=data_dir, allow_processes=list(allow_processes), allow_files=list(allow_files)
    )
    async with ApiClient(settings.address) as api:
        activities = registry.activities(Services(settings, api))
        async with Worker(
            client,
            task_queue=queue,
            workflows=[DocumentOnly],
            activities=list(activities.values()),
            workflow_runner=sandbox(),
        ):
            yield Engine(client, queue, data_dir)
