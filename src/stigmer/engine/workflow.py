"""The Temporal workflow that runs a DSL document (type `stigmer/workflow-execution`)."""

from __future__ import annotations

from typing import Any

from temporalio import workflow

from stigmer.contract.inputs import Ending, WorkflowRunInput
from stigmer.contract.names import WORKFLOW_EXECUTION_WORKFLOW
from stigmer.contract.problems import Fault
from stigmer.engine.events import Inbox, ReceivesEvents
from stigmer.engine.interpreter import run_document
from stigmer.engine.progress import Reporter, reporter
from stigmer.handshake import ending as endings
from stigmer.handshake.execution_side import run_as_execution


async def run_to_end(
    params: WorkflowRunInput, report: Reporter | None = None, inbox: Inbox | None = None
) -> Any:
    """The document's output; a DSL fault becomes an error carrying the error object."""
    try:
        return await run_document(
            params.document,
            params.input,
            execution_id=params.execution_id,
            report=report,
            inbox=inbox,
        )
    except Fault as fault:
        raise fault.problem.application_error() from None


@workflow.defn(name=WORKFLOW_EXECUTION_WORKFLOW)
class WorkflowExecution(ReceivesEvents):
    """Runs the document as the WorkflowExecution `execution_id`: status, deadline, callback;
    events sent to it wait in its inbox for a `listen` task."""

    @workflow.run
    async def run(self, params: WorkflowRunInput) -> Ending:
        async def body() -> Ending:
            output = await run_to_end(params, reporter(params.execution_id), self.inbox)
            return endings.completed_with(params.execution_id, output)

        return await run_as_execution(params.execution_id, params.plan, body)
