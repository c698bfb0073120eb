"""What keeps open pages current: shared list refreshes, and the end of every stream.

The API has a Watch per execution but nothing that watches the list, so the console
re-reads each list that some page shows, every `REFRESH_SECONDS`, once for all the pages
that show it, and only while at least one does. Pages never poll: each holds one
server-sent-event stream, fed from here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

import structlog

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import ApiError, ApiUnreachable

log = structlog.get_logger("stigmer.console")

T = TypeVar("T")
REFRESH_SECONDS = 1.0


@dataclass(frozen=True)
class Problem:
    """The API could not be read; the page says so and keeps its last rows."""

    message: str


Snapshot = list[pb.Execution] | Problem
Fetch = Callable[[], Awaitable[list[pb.Execution]]]


class Subscription:
    """One page's view of a feed: the latest snapshot, never a backlog."""

    def __init__(self) -> None:
        self._latest: Snapshot | None = None
        self._fresh = asyncio.Event()

    def offer(self, snapshot: Snapshot) -> None:
        self._latest = snapshot
        self._fresh.set()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Snapshot:
        await self._fresh.wait()
        self._fresh.clear()
        assert self._latest is not None
        return self._latest


class ListFeed:
    """Re-reads one list while anyone subscribes, and offers each change to them all."""

    def __init__(self, fetch: Fetch, interval: float) -> None:
        self._fetch = fetch
        self._interval = interval
        self.subscribers: set[Subscription] = set()
        self._latest: Snapshot | None = None
        self._task = asyncio.create_task(self._refresh(), name="console-list-feed")

    def add(self, subscription: Subscription) -> None:
        self.subscribers.add(subscription)
        if self._latest is not None:
            subscription.offer(self._latest)

    async def _refresh(self) -> None:
        seen: object = None
        while True:
            snapshot: Snapshot
            try:
                snapshot = await self._fetch()
                key: object = [(e.id, e.revision) for e in snapshot]
            except (ApiError, ApiUnreachable) as exc:
                snapshot = key = Problem(str(exc))
            except Exception:  # the refresh outlives any one failure; pages hear of it
                log.exception("console list refresh failed")
                snapshot = key = Problem("the console could not read the list; see its log")
            if key != seen:
                seen = key
                self._latest = snapshot
                for subscription in self.subscribers:
                    subscription.offer(snapshot)
            await asyncio.sleep(self._interval)

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.wait({self._task})


class Live:
    """The console's live state: list feeds by what they show, and a closing signal."""

    def __init__(self, interval: float = REFRESH_SECONDS) -> None:
        self.interval = interval
        self.closing = asyncio.Event()
        self._feeds: dict[Hashable, ListFeed] = {}

    @contextlib.asynccontextmanager
    async def subscribe(self, key: Hashable, fetch: Fetch) -> AsyncIterator[Subscription]:
        """Follow the list named `key` (read with `fetch` while nobody else reads it)."""
        feed = self._feeds.get(key)
        if feed is None:
            feed = self._feeds[key] = ListFeed(fetch, self.interval)
        subscription = Subscription()
        feed.add(subscription)
        try:
            yield subscription
        finally:
            feed.subscribers.discard(subscription)
            if not feed.subscribers and self._feeds.get(key) is feed:
                del self._feeds[key]
                await feed.stop()

    @property
    def feeds(self) -> int:
        return len(self._feeds)

    async def close(self) -> None:
        """End every open stream and stop every refresh."""
        self.closing.set()
        feeds, self._feeds = list(self._feeds.values()), {}
        for feed in feeds:
            await feed.stop()

    async def until_closing(self, items: AsyncIterator[T]) -> AsyncIterator[T]:
        """`items` until they end or the console closes, whichever comes first."""
        closing = asyncio.ensure_future(self.closing.wait())
        step: asyncio.Future[T] | None = None
        try:
            while True:
                step = asyncio.ensure_future(anext(items))
                await asyncio.wait({step, closing}, return_when=asyncio.FIRST_COMPLETED)
                if not step.done():
                    return
                try:
                    item = step.result()
                except StopAsyncIteration:
                    return
                yield item
        finally:
            closing.cancel()
            if step is not None and not step.done():
                step.cancel()  # the page left or the console closes: stop the read first
                await asyncio.wait({step})
            aclose = getattr(items, "aclose", None)
            if aclose is not None:
                await aclose()
