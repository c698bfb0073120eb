"""`emit`: publish a CloudEvent; the event, completed with its id and time, is the output.

The event goes to the platform through an activity: every run that is listening gets it.
An event the CloudEvents spec refuses (say, an extension attribute in upper case) faults
the task with a validation error naming the attribute.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from stigmer.contract.events import EventError, cloud_event
from stigmer.contract.payloads import input_problem
from stigmer.contract.problems import VALIDATION, Fault, Problem, from_failure
from stigmer.engine.events import EMIT_EVENT_ACTIVITY, Emission
from stigmer.engine.models import EmitTask
from stigmer.engine.tasktype import Activities, Checks, Services, TaskScope, TaskType, plain

EMIT_ATTEMPTS = 5


async def run(task: EmitTask, input: Any, scope: TaskScope) -> Any:
    attributes = scope.evaluate(plain(task.emit.event.with_), input)
    try:
        event = cloud_event(attributes, id=str(workflow.uuid4()), time=workflow.now())
    except EventError as exc:
        raise Fault(Problem.of(VALIDATION, f"the emitted {exc}", instance=scope.pointer)) from None
    emission = Emission(scope.execution_id, event)
    too_large = input_problem(emission, f"the event of {scope.pointer}")
    if too_large is not None:
        raise Fault(too_large.with_instance(scope.pointer))
    try:
        await workflow.execute_activity(
            EMIT_EVENT_ACTIVITY,
            emission,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=EMIT_ATTEMPTS),
        )
    except ActivityError as exc:
        raise Fault(from_failure(exc, instance=scope.pointer)) from exc
    return event


def check(task: EmitTask, pointer: str, checks: Checks) -> None:
    checks.template(plain(task.emit.event.with_), f"{pointer}/emit/event/with")


def activities(services: Services) -> Activities:
    # The activity reaches the API like any client (see `publishing`).
    from stigmer.engine.publishing import EventActivities

    return {EMIT_EVENT_ACTIVITY: EventActivities(services.api).emit}


TASK = TaskType(
    kind="emit",
    variant=None,
    model=EmitTask,
    run=run,
    check=check,
    activities=activities,
    example="""
document: {dsl: '1.0.3', namespace: examples, name: emit, version: '1.0.0'}
do:
  - emitEvent:
      emit:
        event:
          with:
            source: https://petstore.com
            type: com.petstore.order.placed.v1
            data:
              client: {firstName: Cruella, lastName: de Vil}
""",
)
