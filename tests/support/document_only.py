"""The engine's workflow without the execution bookkeeping (which needs the API).

Kept in a module of its own: the workflow sandbox re-imports the module a workflow is
defined in, and this one imports nothing the sandbox forbids.
"""

from __future__ import annotations

from temporalio import workflow

from stigmer.contract.inputs import WorkflowRunInput
from stigmer.engine.workflow import run_to_end

DOCUMENT_ONLY = "stigmer-test/run-document"


@workflow.defn(name=DOCUMENT_ONLY)
class DocumentOnly:
    @workflow.run
    async def run(self, params: WorkflowRunInput) -> object:
        return await run_to_end(params)
