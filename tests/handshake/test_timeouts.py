"""The caller's timeouts always leave the execution its whole deadline, plus delivery time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from stigmer.contract.limits import MAX_DEADLINE
from stigmer.handshake import timeouts


@pytest.mark.parametrize("seconds", [1, 10, 90, 600, 3600, 6 * 3600, 7 * 24 * 3600])
def test_a_planned_caller_keeps_the_deadline_whole(seconds: int) -> None:
    deadline = timedelta(seconds=seconds)
    plan = timeouts.plan(seconds, None)
    assert plan.caller_start_to_close >= deadline + timedelta(minutes=2)
    assert timeouts.deadline_within(deadline, plan.caller_start_to_close) == deadline


@pytest.mark.parametrize("caller_seconds", [2, 8, 60, 300, 3600])
def test_a_short_caller_shortens_the_deadline_and_keeps_time_to_deliver(
    caller_seconds: int,
) -> None:
    caller = timedelta(seconds=caller_seconds)
    fitted = timeouts.deadline_within(timedelta(hours=1), caller)
    assert timedelta(seconds=1) <= fitted <= caller / 2 or fitted <= caller - timedelta(minutes=2)
    assert caller - fitted >= min(caller / 2, timedelta(minutes=2))


def test_no_task_timeout_lets_the_caller_wait_for_the_longest_deadline() -> None:
    plan = timeouts.plan(None, None)
    assert plan.caller_start_to_close > MAX_DEADLINE
    assert plan.caller_heartbeat_timeout == timeouts.DEFAULT_CALLER_HEARTBEAT
    assert timeouts.heartbeat_interval(None) == timeouts.DEFAULT_CALLER_HEARTBEAT / 3


def test_a_caller_allowing_a_long_silence_is_beaten_rarely() -> None:
    assert timeouts.heartbeat_interval(timedelta(hours=1)) == timedelta(minutes=20)
    assert timeouts.heartbeat_interval(timedelta(seconds=1)) == timedelta(milliseconds=500)
