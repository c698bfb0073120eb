"""The Temporal workflow that runs a DSL document (type `stigmer/workflow-execution`).

A run that grows long continues as new under the same workflow id (see
`stigmer.engine.position`): to the user it is still one WorkflowExecution, whose record
stays IN_PROGRESS, whose progress goes on, and whose deadline is counted from its first
run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from temporalio import workflow

from stigmer.contract.inputs import Ending, ExecutionPlan, WorkflowRunInput
from stigmer.contract.limits import MAX_RESULT_BYTES, over_limit
from stigmer.contract.names import WORKFLOW_EXECUTION_WORKFLOW
from stigmer.contract.problems import Fault, too_large
from stigmer.engine.events import Inbox, ReceivesEvents
from stigmer.engine.interpreter import run_document
from stigmer.engine.position import ContinueAsNew, Continuing, Position
from stigmer.engine.progress import ProgressBuffer, Unsent
from stigmer.handshake import ending as endings
from stigmer.handshake.execution_side import run_as_execution


@dataclass
class Carried:
    """What a run hands to the next one when it continues as new."""

    position: Position
    progress: Unsent
    events: list[dict[str, Any]] = field(default_factory=list)
    """Events received and not consumed yet."""
    continued: int = 1
    """How many times the execution has continued as new."""


@dataclass
class ContinuedRunInput(WorkflowRunInput):
    """A run's parameters: the launcher's, and what an earlier run carried over to it."""

    carried: Carried | None = None


async def run_to_end(
    params: WorkflowRunInput,
    report: ProgressBuffer | None = None,
    inbox: Inbox | None = None,
    *,
    position: Position | None = None,
    continuing: Continuing | None = None,
) -> Any:
    """The document's output; a DSL fault becomes an error carrying the error object."""
    try:
        return await run_document(
            params.document,
            params.input,
            execution_id=params.execution_id,
            report=report,
            inbox=inbox,
            position=position,
            continuing=continuing,
        )
    except Fault as fault:
        raise fault.problem.application_error() from None


async def run_with_progress(
    params: WorkflowRunInput,
    progress: ProgressBuffer,
    inbox: Inbox | None = None,
    *,
    position: Position | None = None,
    continuing: Continuing | None = None,
) -> Any:
    """`run_to_end` with its progress sent in batches: while it waits, and at its end.

    On ContinueAsNew the progress is sent first; what could not be is in `progress`, for
    the next run to send.
    """
    sender = asyncio.create_task(progress.send_while_waiting())
    moving = evicted = False
    try:
        return await run_to_end(params, progress, inbox, position=position, continuing=continuing)
    except ContinueAsNew:
        moving = True
        raise
    except GeneratorExit:
        # The worker dropped this run from its cache; it replays elsewhere, and nothing
        # may be awaited here any more.
        evicted = True
        raise
    finally:
        sender.cancel()
        if moving:
            await workflow.wait_condition(lambda: not progress.sending)
            await progress.flush()
        elif not evicted:
            await progress.close()


def _within_result_limit(output: Any) -> None:
    """An output too large to be recorded fails the run `too-large` at once, instead of
    its ending being refused at every try (sizes are refusals, not retries)."""
    size = len(json.dumps(output, ensure_ascii=False, default=str).encode())
    if size > MAX_RESULT_BYTES:
        detail = over_limit("the workflow's output", size, MAX_RESULT_BYTES, RESULT_LIMIT)
        raise too_large(detail).application_error()


RESULT_LIMIT = "the limit of a result (one API message, as JSON)"


def carry_on(plan: ExecutionPlan, carried: Carried | None) -> ExecutionPlan:
    """A continued run's plan: its deadline is what is left of the first run's."""
    if carried is None:
        return plan
    elapsed = workflow.time() - carried.position.started_at
    return dataclasses.replace(plan, deadline_seconds=max(plan.deadline_seconds - elapsed, 0.001))


@workflow.defn(name=WORKFLOW_EXECUTION_WORKFLOW)
class WorkflowExecution(ReceivesEvents):
    """Runs the document as the WorkflowExecution `execution_id`: status, deadline, callback;
    events sent to it wait in its inbox for a `listen` task."""

    @workflow.run
    async def run(self, params: ContinuedRunInput) -> Ending:
        execution_id, carried = params.execution_id, params.carried
        progress = ProgressBuffer(execution_id, carried.progress if carried else None)
        if carried is not None:
            self.inbox.events[:0] = carried.events
        position = carried.position if carried else None
        continuing = Continuing(params.plan.history_budget)

        async def body() -> Ending:
            output = await run_with_progress(
                params, progress, self.inbox, position=position, continuing=continuing
            )
            _within_result_limit(output)
            return endings.completed_with(execution_id, output)

        try:
            return await run_as_execution(execution_id, carry_on(params.plan, carried), body)
        except ContinueAsNew as moving:
            events = [event for _, event in self.inbox.unconsumed()]
            handed = Carried(
                moving.position,
                progress.handover(),
                events,
                carried.continued + 1 if carried else 1,
            )
            workflow.continue_as_new(dataclasses.replace(params, carried=handed))
