"""EventService: CloudEvents into running workflows, as Temporal signals.

Published events go to every subscribed workflow: a WorkflowExecution with a `listen`
task waiting, or the trigger of an event-driven schedule; events addressed to one
execution go to it alone and wait in its inbox. The receiving workflow decides what
consumes an event, so routing here stays simple.
"""

from __future__ import annotations

from typing import Any

import grpc
import structlog
from temporalio.service import RPCError, RPCStatusCode

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.api.v1 import stigmer_pb2_grpc as pb_grpc
from stigmer.contract.events import EVENT_SIGNAL, EventError, cloud_event
from stigmer.contract.phases import TERMINAL
from stigmer.resources.executions import temporal_workflow_id
from stigmer.resources.values import to_json
from stigmer.server.errors import InvalidArgument, rpc
from stigmer.server.launcher import Launcher
from stigmer.store.store import Store

Context = grpc.aio.ServicerContext[Any, Any]
log = structlog.get_logger("stigmer.server")
REQUIRED = ("type", "source")
EXECUTION_WORKFLOW_PREFIX = temporal_workflow_id(pb.WORKFLOW_EXECUTION, "")


def complete_event(event: dict[str, Any]) -> dict[str, Any]:
    """The CloudEvent with the attributes a sender may leave out filled in."""
    missing = [name for name in REQUIRED if not isinstance(event.get(name), str) or not event[name]]
    if missing:
        raise InvalidArgument(f"event.{missing[0]}", "is required (a non-empty string)")
    try:
        return cloud_event(event)
    except EventError as exc:
        raise InvalidArgument(f"event.{exc.attribute}", exc.reason) from None


class EventService(pb_grpc.EventServiceServicer):
    def __init__(self, store: Store, launcher: Launcher) -> None:
        self.store = store
        self.launcher = launcher

    @rpc
    async def Publish(
        self, request: pb.PublishEventRequest, context: Context
    ) -> pb.PublishEventResponse:
        event = complete_event(to_json(request.event))
        if request.execution_id:
            execution = await self.store.executions.get(request.execution_id)
            if execution.spec.kind != pb.WORKFLOW_EXECUTION or execution.status.phase in TERMINAL:
                raise InvalidArgument(
                    "execution_id",
                    f"{execution.id} is not a running workflow execution; it receives no events",
                )
            await self.launcher.signal(execution.status.temporal_workflow_id, EVENT_SIGNAL, event)
            delivered = [execution.id]
        else:
            delivered = [
                workflow_id.removeprefix(EXECUTION_WORKFLOW_PREFIX)
                for workflow_id in await self.store.subscriptions.workflows()
                if await self._deliver(workflow_id, event)
            ]
        log.info("event published", type=event["type"], id=event["id"], delivered_to=delivered)
        return pb.PublishEventResponse(delivered_to=delivered)

    async def _deliver(self, workflow_id: str, event: dict[str, Any]) -> bool:
        try:
            await self.launcher.signal(workflow_id, EVENT_SIGNAL, event)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            await self.store.subscriptions.remove(workflow_id)  # it ended without unsubscribing
            return False
        return True
