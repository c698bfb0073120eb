"""Timeouts of a call that fit together.

The execution's own deadline is what bounds a call: when it passes, the execution fails
with a timeout error and still calls back. The caller's start-to-close is that deadline
plus a delivery margin, so the caller never gives up before the execution has had its
say; with no deadline on the task, the caller allows the longest deadline there is and
the API keeps the execution's deadline inside whatever the caller allows.

| timeout | default | set by |
| --- | --- | --- |
| execution deadline | agent `spec.deadline`, else `STIGMER_DEFAULT_DEADLINE` (1 h) | task `with.timeout` |
| caller start-to-close | deadline + margin (7 d + margin without a task timeout) | derived |
| caller heartbeat timeout | 5 min (the execution heartbeats every third of it) | task `with.heartbeatTimeout` |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from stigmer.contract.limits import MAX_DEADLINE

DEFAULT_CALLER_HEARTBEAT = timedelta(minutes=5)
CALLER_RETRY_CAP = timedelta(seconds=10)
"""A caller's attempts (an API that is down, a heartbeat timeout) retry at least this
often until its time is up; a retry finds the same execution again."""


def delivery_margin(deadline: timedelta) -> timedelta:
    """Time after the deadline for the execution to stop and deliver its callback."""
    return max(timedelta(minutes=2), deadline / 10)


@dataclass(frozen=True)
class CallPlan:
    caller_start_to_close: timedelta
    caller_heartbeat_timeout: timedelta


def plan(deadline_seconds: float | None, heartbeat_seconds: float | None) -> CallPlan:
    deadline = timedelta(seconds=deadline_seconds) if deadline_seconds else MAX_DEADLINE
    heartbeat = (
        timedelta(seconds=heartbeat_seconds) if heartbeat_seconds else DEFAULT_CALLER_HEARTBEAT
    )
    return CallPlan(deadline + delivery_margin(deadline), heartbeat)


def deadline_within(deadline: timedelta, caller_timeout: timedelta | None) -> timedelta:
    """The execution's deadline, shortened if needed to end inside the caller's timeout."""
    deadline = min(deadline, MAX_DEADLINE)
    if caller_timeout is None:
        return deadline
    # The caller plans d + delivery_margin(d); give back that d, and for a caller shorter
    # than any margin, keep half its time for stopping and delivering.
    margin = min(max(timedelta(minutes=2), caller_timeout / 11), caller_timeout / 2)
    return max(min(deadline, caller_timeout - margin), timedelta(seconds=1))


def heartbeat_interval(caller_heartbeat_timeout: timedelta | None) -> timedelta:
    """How often the execution heartbeats its caller: three chances per timeout.

    Each beat costs a timer, an activity and two API writes, so a caller that allows a
    long silence (many calls pending at once) is beaten that rarely.
    """
    timeout = caller_heartbeat_timeout or DEFAULT_CALLER_HEARTBEAT
    return max(timeout / 3, timedelta(milliseconds=500))
