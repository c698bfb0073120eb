"""Waking the watchers of an execution when it changes, whichever replica changed it."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Iterator


class Wakeup:
    """One watcher's signal: set by a change since it was last awaited."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    async def wait(self, seconds: float) -> None:
        """Until a change arrives (or arrived since the last wait), or `seconds` pass."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._event.wait()
        self._event.clear()


class Changes:
    """Wakes watchers: at once for a change made in this process, and for one made through
    another replica when the store's change listener hears of it (`notify`), or all of
    them when notices may have been missed (`wake_all`)."""

    def __init__(self) -> None:
        self._watchers: dict[str, set[Wakeup]] = defaultdict(set)

    def notify(self, execution_id: str) -> None:
        for wakeup in self._watchers.get(execution_id, ()):
            wakeup.set()

    def wake_all(self) -> None:
        for watchers in self._watchers.values():
            for wakeup in watchers:
                wakeup.set()

    @contextlib.contextmanager
    def watching(self, execution_id: str) -> Iterator[Wakeup]:
        """A wakeup registered before the watcher reads, so no change slips in between."""
        wakeup = Wakeup()
        self._watchers[execution_id].add(wakeup)
        try:
            yield wakeup
        finally:
            self._watchers[execution_id].discard(wakeup)
            if not self._watchers[execution_id]:
                del self._watchers[execution_id]
