"""Counting what holds an activity slot, from inside the worker that owns the slots.

A worker interceptor sees every activity execution start and end, so the number of
(non-local) activities running is exactly the number of slots in use; an activity that raises `CompleteAsyncError` has
gone pending and given its slot back.
"""

from __future__ import annotations

from typing import Any

from temporalio import activity, client
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)


class SlotCounter(client.Interceptor, Interceptor):
    """Running activities now, the most at once, and how many went pending.

    Also a client interceptor: given to the client a worker is built on, it reaches the
    worker without changing how the worker is built.
    """

    def __init__(self) -> None:
        self.running = 0
        self.peak = 0
        self.pended = 0

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Counting(next, self)


class _Counting(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, counter: SlotCounter) -> None:
        super().__init__(next)
        self.counter = counter

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        if activity.info().is_local:
            # Local activities (progress records, an execution's own bookkeeping) have a
            # pool of their own; they take none of the worker's activity slots.
            return await super().execute_activity(input)
        counter = self.counter
        counter.running += 1
        counter.peak = max(counter.peak, counter.running)
        try:
            return await super().execute_activity(input)
        except activity._CompleteAsyncError:  # the SDK's only marker of going pending
            counter.pended += 1
            raise
        finally:
            counter.running -= 1
