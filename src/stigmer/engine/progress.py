"""Per-task progress of a WorkflowExecution: what ran, with what input and output.

The interpreter reports each task's start and end; the workflow turns each report into a
local activity (a marker in history, no task-queue round trip) that records it through
the API, where `stigmer executions watch` and Watch streams show it live.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf import json_format
from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import FailureError

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import WorkerClient
from stigmer.contract.problems import Problem

RECORD_PROGRESS_ACTIVITY = "stigmer/engine/record-progress"
VALUE_BUDGET = 16 * 1024
"""Inputs and outputs larger than this (bytes of JSON) are summarized, not copied."""


@dataclass
class TaskEvent:
    path: str
    name: str
    status: str
    """running, completed, faulted, cancelled or skipped."""
    input: Any = None
    output: Any = None
    error: dict[str, Any] = field(default_factory=dict)
    execution_id: str = ""
    at: float = 0.0
    """Workflow time (seconds since the epoch) of the change."""


@dataclass
class ProgressUpdate:
    execution_id: str
    event: TaskEvent


Reporter = Callable[[TaskEvent], Awaitable[None]]


def reporter(execution_id: str) -> Reporter:
    """Records events of `execution_id` from workflow code; a failed record is skipped."""

    async def report(event: TaskEvent) -> None:
        event.at = workflow.time()
        try:
            await workflow.execute_local_activity(
                RECORD_PROGRESS_ACTIVITY,
                ProgressUpdate(execution_id, event),
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=RetryPolicy(maximum_attempts=3),
            )
        except FailureError:  # a local activity's failure comes unwrapped
            workflow.logger.warning("progress of %s not recorded", event.path)

    return report


class ProgressActivities:
    def __init__(self, api: WorkerClient) -> None:
        self.api = api

    @activity.defn(name=RECORD_PROGRESS_ACTIVITY)
    async def record(self, update: ProgressUpdate) -> None:
        event = update.event
        task = pb.TaskProgress(
            path=event.path, name=event.name, status=event.status, execution_id=event.execution_id
        )
        stamp = datetime.fromtimestamp(event.at, UTC)
        if event.status == "running":
            task.started_at.FromDatetime(stamp)
            json_format.ParseDict(_bounded(event.input), task.input)
        else:
            task.finished_at.FromDatetime(stamp)
            if event.status == "completed":
                json_format.ParseDict(_bounded(event.output), task.output)
        if event.error:
            task.error.CopyFrom(pb.ExecutionError(**Problem.from_dict(event.error).to_dict()))
        await self.api.report_progress(pb.ProgressReport(id=update.execution_id, tasks=[task]))


def _bounded(value: Any) -> Any:
    size = len(json.dumps(value, default=str))
    if size <= VALUE_BUDGET:
        return value
    return {"summary": f"{type(value).__name__} of {size} bytes, not copied into progress"}
