"""The workflow the conformance kit runs: the engine's own run, with its per-task progress.

Progress goes through the engine's real reporter (a local activity per task event); the
kit's worker answers that activity by keeping the events in memory, so the steps can say
which task ran first, last, before or after another, and how each one ended. Kept in a
module of its own: the workflow sandbox re-imports the module a workflow is defined in.
"""

from __future__ import annotations

from collections import defaultdict

from temporalio import activity, workflow

from stigmer.contract.inputs import WorkflowRunInput
from stigmer.engine.events import EMIT_EVENT_ACTIVITY, Emission
from stigmer.engine.progress import RECORD_PROGRESS_ACTIVITY, ProgressUpdate, TaskEvent, reporter
from stigmer.engine.workflow import run_to_end

CTK_RUN = "stigmer-test/ctk-run"

EVENTS: defaultdict[str, list[TaskEvent]] = defaultdict(list)
"""Task events per execution id, in the order the workflow reported them."""


@workflow.defn(name=CTK_RUN)
class CtkRun:
    @workflow.run
    async def run(self, params: WorkflowRunInput) -> object:
        return await run_to_end(params, reporter(params.execution_id))


@activity.defn(name=RECORD_PROGRESS_ACTIVITY)
async def record_progress(update: ProgressUpdate) -> None:
    EVENTS[update.execution_id].append(update.event)


EMITTED: list[dict[str, object]] = []
"""Events the kit's runs emitted (the platform would publish them to listening runs)."""


@activity.defn(name=EMIT_EVENT_ACTIVITY)
async def emit_event(emission: Emission) -> list[str]:
    EMITTED.append(emission.event)
    return []
