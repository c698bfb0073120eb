"""`emit`: publish a CloudEvent; the event, completed with its id and time, is the output.

The event goes to the platform through an activity: every run that is listening gets it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from stigmer.contract.problems import Fault, from_failure
from stigmer.engine.events import EMIT_EVENT_ACTIVITY, cloud_event
from stigmer.engine.tasks import TaskScope


@dataclass
class Emission:
    execution_id: str
    event: dict[str, Any]


async def execute(task: dict[str, Any], input: Any, scope: TaskScope) -> Any:
    attributes = scope.evaluator.template(
        task["emit"]["event"]["with"], input, scope.args, instance=scope.pointer
    )
    event = cloud_event(
        attributes,
        id=str(workflow.uuid4()),
        time=workflow.now().isoformat().replace("+00:00", "Z"),
    )
    try:
        await workflow.execute_activity(
            EMIT_EVENT_ACTIVITY,
            Emission(scope.execution_id, event),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=5),
        )
    except ActivityError as exc:
        raise Fault(from_failure(exc, instance=scope.pointer)) from exc
    return event
