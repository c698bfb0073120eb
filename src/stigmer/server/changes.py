"""Waking the watchers of an execution when it changes."""

from __future__ import annotations

import asyncio
from collections import defaultdict


class Changes:
    """Wakes the watchers of an execution when this process changed it."""

    def __init__(self) -> None:
        self._events: dict[str, set[asyncio.Event]] = defaultdict(set)

    def notify(self, execution_id: str) -> None:
        for event in self._events.get(execution_id, ()):
            event.set()

    async def wait(self, execution_id: str, seconds: float) -> None:
        """Until the execution changes here, or `seconds` pass."""
        event = asyncio.Event()
        self._events[execution_id].add(event)
        try:
            async with asyncio.timeout(seconds):
                await event.wait()
        except TimeoutError:
            pass
        finally:
            self._events[execution_id].discard(event)
            if not self._events[execution_id]:
                del self._events[execution_id]
