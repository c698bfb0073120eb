"""The workflow the conformance kit runs: the engine's own run, with its per-task progress.

Progress goes through the engine's real buffer (a local activity per batch); the kit's
worker answers that activity by keeping each task's start and end in memory, so the
steps can say which task ran first, last, before or after another, and how each one
ended. Kept in a
module of its own: the workflow sandbox re-imports the module a workflow is defined in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity, workflow

from stigmer.contract.inputs import WorkflowRunInput
from stigmer.engine.events import EMIT_EVENT_ACTIVITY, Emission
from stigmer.engine.progress import (
    RECORD_PROGRESS_ACTIVITY,
    ProgressBatch,
    ProgressBuffer,
)
from stigmer.engine.workflow import run_with_progress

CTK_RUN = "stigmer-test/ctk-run"


@dataclass
class TaskEvent:
    """A task's start or end, as the run's progress batches told it."""

    path: str
    name: str
    status: str
    """running, completed, faulted, cancelled or skipped."""
    input: Any = None
    output: Any = None
    error: dict[str, Any] = field(default_factory=dict)


EVENTS: defaultdict[str, list[TaskEvent]] = defaultdict(list)
"""Task events per execution id, in the order the workflow reported them."""


@workflow.defn(name=CTK_RUN)
class CtkRun:
    @workflow.run
    async def run(self, params: WorkflowRunInput) -> object:
        return await run_with_progress(params, ProgressBuffer(params.execution_id))


@activity.defn(name=RECORD_PROGRESS_ACTIVITY)
async def record_progress(batch: ProgressBatch) -> bool:
    events = EVENTS[batch.execution_id]
    for state in batch.tasks:
        if state.started_at:
            events.append(TaskEvent(state.path, state.name, "running", input=state.input))
        if state.finished_at:
            events.append(
                TaskEvent(
                    state.path, state.name, state.status, output=state.output, error=state.error
                )
            )
    return True


EMITTED: list[dict[str, object]] = []
"""Events the kit's runs emitted (the platform would publish them to listening runs)."""


@activity.defn(name=EMIT_EVENT_ACTIVITY)
async def emit_event(emission: Emission) -> list[str]:
    EMITTED.append(emission.event)
    return []
