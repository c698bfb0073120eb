"""A background loop stops even when a cancel sent to it is lost on its way."""

from __future__ import annotations

import asyncio

from stigmer.background import Background


async def test_a_loop_that_swallows_a_cancel_is_stopped_all_the_same() -> None:
    rounds: list[str] = []

    async def stubborn() -> None:
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                # As Python 3.11's wait_for does when the call it waits for fails at the
                # moment it is cancelled: the loop sees an ordinary failure and goes on.
                if not rounds:
                    rounds.append("swallowed")
                    asyncio.current_task().uncancel()  # type: ignore[union-attr]
                    continue
                rounds.append("ended")
                raise

    background = Background("stubborn")
    background.start(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(background.stop(), 10)
    assert rounds == ["swallowed", "ended"]


async def test_stopping_what_never_started_does_nothing() -> None:
    await Background("idle").stop()
