"""`stigmer/agent-execution`: one agent execution, as its own durable workflow."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from stigmer.config import sibling_queue
from stigmer.contract.inputs import AgentExecutionInput, AgentResult, Ending
from stigmer.contract.names import AGENT_EXECUTION_WORKFLOW, RUN_AGENT_ACTIVITY
from stigmer.handshake import ending as endings
from stigmer.handshake.execution_side import run_as_execution

RUNNER_ATTEMPTS = 5
"""Runs of the agent before a runner that keeps dying fails the execution."""


@workflow.defn(name=AGENT_EXECUTION_WORKFLOW)
class AgentExecutionWorkflow:
    @workflow.run
    async def run(self, input: AgentExecutionInput) -> Ending:
        async def run_agent() -> Ending:
            result: AgentResult = await workflow.execute_activity(
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
            return endings.completed(input.execution_id, result)

        return await run_as_execution(input.execution_id, input.plan, run_agent)
