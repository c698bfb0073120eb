"""A loop a long-lived component runs beside its callers while it is started: the
collector, the reconciler, the leader election, the change listener, the metrics drain."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import structlog

log = structlog.get_logger("stigmer")

STOP_TRIES = 30
"""Cancels sent to a loop that will not end, a second apart, before it is left behind."""


class Background:
    def __init__(self, name: str) -> None:
        self.name = name
        self._task: asyncio.Task[None] | None = None

    def start(self, work: Coroutine[Any, Any, None]) -> None:
        self._task = asyncio.create_task(work, name=self.name)

    async def stop(self) -> None:
        """Cancel it and wait until it has ended; nothing to do if it never started.

        A cancel can be lost on its way: Python 3.11's `asyncio.wait_for` drops one that
        arrives just as the call it waits for fails, and the loop, taking the failure for
        an ordinary one, goes on. So the cancel is sent again until the loop ends.
        """
        task, self._task = self._task, None
        if task is None:
            return
        for _ in range(STOP_TRIES):
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=1.0)
            if done:
                if not task.cancelled() and task.exception() is not None:
                    log.error("background loop failed", loop=self.name, error=task.exception())
                return
        log.error("background loop would not stop; left behind", loop=self.name)
