"""`stigmer/agent-execution`: one agent execution, as its own durable workflow."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from stigmer.config import sibling_queue
from stigmer.contract.inputs import AgentExecutionInput, AgentResult, Ending
from stigmer.contract.names import AGENT_EXECUTION_WORKFLOW, RUN_AGENT_ACTIVITY
from stigmer.contract.problems import FORGERY, Fault
from stigmer.handshake import ending as endings
from stigmer.handshake.execution_side import run_as_execution
from stigmer.sealing.codec import Unauthenticated, forgery
from stigmer.sealing.guard import report_forgery

RUNNER_ATTEMPTS = 5
"""Runs of the agent before a runner that keeps dying fails the execution."""
FORGED_RUNS = 3
"""Runs whose outcome the platform did not make (a completion or failure forged through
Temporal) that are refused and run again, before the execution fails with `forgery`."""


@workflow.defn(name=AGENT_EXECUTION_WORKFLOW)
class AgentExecutionWorkflow:
    @workflow.run
    async def run(self, input: AgentExecutionInput) -> Ending:
        async def run_agent() -> Ending:
            doubt = ""
            for _ in range(FORGED_RUNS):
                try:
                    result: AgentResult | Unauthenticated = await workflow.execute_activity(
                        RUN_AGENT_ACTIVITY,
                        input.execution_id,
                        result_type=AgentResult,
                        task_queue=sibling_queue(workflow.info().task_queue, "runner"),
                        start_to_close_timeout=timedelta(seconds=input.plan.deadline_seconds),
                        heartbeat_timeout=timedelta(seconds=input.plan.runner_heartbeat_seconds),
                        retry_policy=RetryPolicy(
                            maximum_attempts=RUNNER_ATTEMPTS, initial_interval=timedelta(seconds=1)
                        ),
                        cancellation_type=workflow.ActivityCancellationType.TRY_CANCEL,
                    )
                except ActivityError as exc:
                    if not (isinstance(exc.cause, ApplicationError) and exc.cause.type == FORGERY):
                        raise
                    doubt = exc.cause.message
                else:
                    if (
                        isinstance(result, AgentResult)
                        and result.execution_id == input.execution_id
                    ):
                        return endings.completed(input.execution_id, result)
                    doubt = _doubt(result)
                report_forgery("agent-result", doubt, execution_id=input.execution_id)
            raise Fault(forgery("the agent's result", f"{doubt}; {FORGED_RUNS} runs refused"))

        return await run_as_execution(input.execution_id, input.plan, run_agent)


def _doubt(result: AgentResult | Unauthenticated) -> str:
    """Why a run's result that is not this execution's was refused."""
    if isinstance(result, Unauthenticated):
        return f"a completion the platform did not seal: {result.reason}"
    return "a result sealed for another execution"
