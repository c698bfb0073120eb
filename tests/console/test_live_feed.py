"""The list refresh runs once per list shown, only while some page shows it."""

from __future__ import annotations

import asyncio

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import ApiUnreachable
from stigmer.console.live import Live, Problem


class CountingFetch:
    def __init__(self) -> None:
        self.calls = 0
        self.fail = False

    async def __call__(self) -> list[pb.Execution]:
        self.calls += 1
        if self.fail:
            raise ApiUnreachable("cannot reach the Stigmer API at 127.0.0.1:1")
        return [pb.Execution(id="aex-1", revision=self.calls)]


async def test_one_refresh_serves_every_page_and_stops_with_the_last() -> None:
    live = Live(interval=0.01)
    fetch = CountingFetch()
    async with live.subscribe("list", fetch) as first, live.subscribe("list", fetch) as second:
        assert live.feeds == 1
        seen = await anext(first), await anext(second)
        assert all(isinstance(snapshot, list) for snapshot in seen)
        fetch.fail = True
        for _ in range(3):  # a snapshot read before the failure may still be on its way
            problem = await asyncio.wait_for(anext(first), 5)
            if isinstance(problem, Problem):
                break
        assert isinstance(problem, Problem)
        assert "cannot reach" in problem.message
    assert live.feeds == 0
    stopped_at = fetch.calls
    await asyncio.sleep(0.1)
    assert fetch.calls == stopped_at


async def test_closing_ends_every_open_stream() -> None:
    live = Live(interval=0.01)

    async def forever() -> None:
        async with live.subscribe("list", CountingFetch()) as subscription:
            async for _ in live.until_closing(subscription):
                pass

    stream = asyncio.create_task(forever())
    await asyncio.sleep(0.05)
    await live.close()
    await asyncio.wait_for(stream, 5)
    assert live.feeds == 0
