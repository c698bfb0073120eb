r"""`run: workflow`: run another applied Stigmer Workflow, by name.

    - startWorkflow:
        run:
          workflow:
            namespace: another-one      # required by the DSL; a Stigmer Workflow is
            name: do-stuff              # identified by its name alone
            version: '0.1.0'
            input: {order: '${ .id }'}  # optional: by default, the task's transformed input
          await: true                   # the default

As the spec says, the task's output is the child workflow's own output, and a child run
without `input` gets the task's transformed input. The child runs through the token
handshake, so it is a WorkflowExecution like any other (watchable, cancellable) and its
failure faults the task with the child's own error.

With `await: false` the child is started and not waited for: an activity creates its
execution through the API without a callback, and the task outputs its transformed
input. The creation carries an idempotency key made of the calling activity's identity,
so a retried attempt finds the execution it already created instead of starting another.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from stigmer.contract.inputs import CallRequest
from stigmer.contract.problems import Fault, from_failure
from stigmer.engine.models import RunTask, RunWorkflow
from stigmer.engine.outbound.handshake import bad_argument, caller_activities, invoke
from stigmer.engine.tasktype import Activities, Called, Checks, Services, TaskScope, TaskType
from stigmer.sealing.guard import authentic, noted

START_ACTIVITY = "stigmer/engine/start-workflow"
READ_RESULT_ACTIVITY = "stigmer/engine/read-result"
API_ATTEMPTS = 10


class WorkflowTask(RunTask):
    run: RunWorkflow


async def run(task: WorkflowTask, input: Any, scope: TaskScope) -> Any:
    request = build_request(task, input, scope)
    if task.run.await_ is False:
        await _api_activity(START_ACTIVITY, request, scope)
        return input
    result = await invoke(request)
    output = result.structured
    if result.result_ref:
        # Kept apart for its size: read it back, as its caller is entitled to it.
        output = await _api_activity(READ_RESULT_ACTIVITY, result.execution_id, scope)
    return Called(output, result.execution_id)


def build_request(task: WorkflowTask, input: Any, scope: TaskScope) -> CallRequest:
    """Evaluate the nested workflow's reference and input into a handshake request."""
    target = task.run.workflow
    if not target.name:
        raise bad_argument(scope.pointer, f"'workflow.name' must be a name, got {target.name!r}")
    nested_input = input if target.input is None else scope.evaluate(target.input, input)
    return CallRequest(
        kind="workflow",
        target=target.name,
        input=nested_input,
        parent_execution_id=scope.execution_id,
        task_path=scope.pointer,
    )


async def _api_activity(name: str, argument: Any, scope: TaskScope) -> Any:
    try:
        result = await workflow.execute_activity(
            name,
            argument,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(
                maximum_attempts=API_ATTEMPTS, maximum_interval=timedelta(seconds=10)
            ),
        )
    except ActivityError as exc:
        raise Fault(noted(from_failure(exc, instance=scope.pointer), "activity-failure")) from exc
    return authentic(result, "activity-result", f"the result of {scope.pointer}")


def check(task: WorkflowTask, pointer: str, checks: Checks) -> None:
    if task.run.return_ is not None and "return" in task.run.model_fields_set:
        checks.add(f"{pointer}/run/return", "'return' applies to processes, not to workflows")
    if task.run.workflow.input is not None:
        checks.template(task.run.workflow.input, f"{pointer}/run/workflow/input")


def activities(services: Services) -> Activities:
    from stigmer.handshake.caller import idempotency_key
    from stigmer.resources.values import to_json

    api = services.api

    @activity.defn(name=START_ACTIVITY)
    async def start_workflow(request: CallRequest) -> str:
        """Create the child execution, without a callback: nothing waits for it."""
        info = activity.info()
        key = idempotency_key(info.workflow_id or "", info.workflow_run_id or "", info.activity_id)
        response = await api.run_workflow(
            request.target,
            input=request.input,
            idempotency_key=f"start/{key}",
            parent_execution_id=request.parent_execution_id,
        )
        return response.execution.id

    @activity.defn(name=READ_RESULT_ACTIVITY)
    async def read_result(execution_id: str) -> Any:
        """A finished execution's result that was kept apart for its size."""
        result = await api.result(execution_id)
        return to_json(result.structured) if result.HasField("structured") else None

    return {
        **caller_activities(services),
        START_ACTIVITY: start_workflow,
        READ_RESULT_ACTIVITY: read_result,
    }


TASK = TaskType(
    kind="run",
    variant="workflow",
    model=WorkflowTask,
    run=run,
    check=check,
    activities=activities,
    example="""
document: {dsl: '1.0.3', namespace: examples, name: run-workflow, version: '1.0.0'}
do:
  - startWorkflow:
      run:
        workflow:
          namespace: another-one
          name: do-stuff
          version: '0.1.0'
          input: {order: '${ .id }'}
""",
)
