"""The activities behind `emit` and `listen`: they reach the API as the platform's workers."""

from __future__ import annotations

from temporalio import activity

from stigmer.client import WorkerClient
from stigmer.engine.events import (
    EMIT_EVENT_ACTIVITY,
    SUBSCRIBE_ACTIVITY,
    UNSUBSCRIBE_ACTIVITY,
    Emission,
    Subscription,
)


class EventActivities:
    def __init__(self, api: WorkerClient) -> None:
        self.api = api

    @activity.defn(name=EMIT_EVENT_ACTIVITY)
    async def emit(self, emission: Emission) -> list[str]:
        """Publish the event; returns the executions it reached."""
        response = await self.api.publish_event(emission.event)
        return list(response.delivered_to)

    @activity.defn(name=SUBSCRIBE_ACTIVITY)
    async def subscribe(self, subscription: Subscription) -> None:
        await self.api.subscribe(subscription.workflow_id, subscription.key)

    @activity.defn(name=UNSUBSCRIBE_ACTIVITY)
    async def unsubscribe(self, subscription: Subscription) -> None:
        await self.api.unsubscribe(subscription.workflow_id, subscription.key)
