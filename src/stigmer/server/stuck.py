"""Stuck-call detection: what needs an operator, found from the store.

Open executions past `stuck_after` (24 h by default: longer than agents are expected to
run, shorter than the 7-day longest deadline, so a lost one is seen within a day), and
finished ones whose caller was not told: still WAITING some minutes after the end (a
delivery takes seconds and gives up after about two minutes of retries), or ERROR /
TOKEN_INVALID. Callback failures older than `CALLBACK_LOOKBACK` are no longer reported,
so one that nobody can fix (a token Temporal refuses) does not alert forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.store.store import Store

CALLBACK_GRACE = timedelta(minutes=10)
"""A finished execution whose callback still waits after this long is stuck."""
CALLBACK_LOOKBACK = timedelta(days=7)
LIMIT = 1000
"""At most this many of each reason are listed (all are still counted up to it)."""

_FAILED_OUTCOMES = [
    pb.CallbackOutcome.Name(o) for o in (pb.CALLBACK_ERROR, pb.CALLBACK_TOKEN_INVALID)
]


@dataclass(frozen=True)
class Stuck:
    execution: pb.Execution
    reason: pb.StuckReason.ValueType
    age: timedelta
    """Since creation for an open execution, since its end for a callback."""


async def find_stuck(store: Store, now: datetime, stuck_after: timedelta) -> list[Stuck]:
    found: list[Stuck] = []
    for execution in await store.executions.open_since(now - stuck_after, LIMIT):
        reason = pb.STUCK_PENDING if execution.status.phase == pb.PENDING else pb.STUCK_IN_PROGRESS
        found.append(Stuck(execution, reason, now - execution.status.created_at.ToDatetime(UTC)))
    grace = min(stuck_after, CALLBACK_GRACE)
    waiting = await store.executions.unsettled_callbacks(
        [pb.CallbackOutcome.Name(pb.CALLBACK_WAITING)], now - CALLBACK_LOOKBACK, LIMIT
    )
    for execution in waiting:
        since_end = now - execution.status.finished_at.ToDatetime(UTC)
        if since_end >= grace:
            found.append(Stuck(execution, pb.STUCK_CALLBACK_WAITING, since_end))
    for execution in await store.executions.unsettled_callbacks(
        _FAILED_OUTCOMES, now - CALLBACK_LOOKBACK, LIMIT
    ):
        since_end = now - execution.status.finished_at.ToDatetime(UTC)
        found.append(Stuck(execution, pb.STUCK_CALLBACK_FAILED, since_end))
    return found
