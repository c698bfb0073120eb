"""Runs of an applied Workflow started by its document's `schedule`.

`every` and `cron` are Temporal Schedules whose action starts `stigmer/scheduled-run`
once. `after` (start again that long after the previous run ended) and `on` (start when
the events arrive) have no Temporal Schedule equivalent, so one long-lived
`stigmer/scheduled-run` loops, continuing as new after each run. Each run is a
WorkflowExecution made through the same handshake as `run: workflow`, so it is recorded,
watchable and cancellable like any other; an event-driven run gets the consumed events
as its input (`$workflow.input[0]` is the first event). Runs of one schedule never
overlap: events that arrive meanwhile wait in order.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

from stigmer.contract.inputs import CallRequest, ScheduledRun
from stigmer.contract.names import SCHEDULED_RUN_WORKFLOW
from stigmer.contract.problems import Fault
from stigmer.engine.events import ReceivesEvents, Subscription
from stigmer.engine.expressions import Evaluator
from stigmer.engine.tasks.listen import Matching, consume, subscribe
from stigmer.handshake.caller import call_from_workflow


@workflow.defn(name=SCHEDULED_RUN_WORKFLOW)
class ScheduledRunWorkflow(ReceivesEvents):
    @workflow.run
    async def run(self, params: ScheduledRun) -> None:
        input: Any = None
        if params.on is not None:
            self.inbox.events[:0] = params.waiting
            try:
                await subscribe(Subscription(workflow.info().workflow_id, "schedule"))
                input = await consume(params.on, self.inbox, _matching(), _envelope)
            except Fault as fault:
                # A failure of the workflow, with its reason, not a task failing in a loop.
                raise fault.problem.application_error() from None
        try:
            await call_from_workflow(
                CallRequest(
                    kind="workflow", target=params.workflow, input=input, task_path="/schedule"
                )
            )
        except ActivityError as exc:
            # One run failed; it is recorded on its execution, and the schedule goes on.
            workflow.logger.warning("scheduled run of %s failed: %s", params.workflow, exc)
        if params.after_seconds is not None:
            await workflow.sleep(timedelta(seconds=params.after_seconds))
        elif params.on is None:
            return
        params.waiting = [event for _, event in self.inbox.unconsumed()]
        workflow.continue_as_new(params)


def _matching() -> Matching:
    evaluator = Evaluator(clock=lambda: workflow.now().timestamp())
    return Matching(evaluator, {}, "/schedule/on")


async def _envelope(event: dict[str, Any], _index: int) -> dict[str, Any]:
    return event
