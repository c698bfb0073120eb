"""Retry policies of `catch.retry`: how many times, how long, and how far apart.

`limit.attempt.count` counts retries, not runs ("retrying 5 times" in dsl.md is
`count: 5`). Following the official schema (the reference's table has the two swapped),
`limit.attempt.duration` bounds each attempt and `limit.duration` bounds the whole
sequence of attempts: no retry starts whose delay would end past it.

The n-th retry waits `delay` (constant backoff), `n * delay` (linear) or
`2**(n-1) * delay` (exponential), plus a jitter drawn from the workflow's seeded random
generator, so a replay waits exactly as the first run did.

Nothing retries forever: a policy that sets neither `limit.attempt.count` nor
`limit.duration` retries at most `UNLIMITED_RETRIES` times, and validation refuses a
count over `MOST_RETRIES`, since every retry grows the workflow's history and Temporal
ends a run whose history outgrows its limit. When the retries run out, the last error
faults the task, as with any exhausted policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio import workflow

from stigmer.contract.problems import CONFIGURATION, Fault, Problem
from stigmer.engine.durations import LONGEST
from stigmer.engine.timeouts import Evaluate, duration

UNLIMITED_RETRIES = 100
"""The retries of a policy that sets no limit of its own."""
MOST_RETRIES = 1000
"""The most retries a policy may ask for: each one adds events to the run's history, which
Temporal keeps to 51,200 events."""


@dataclass(frozen=True)
class RetryPolicy:
    definition: Mapping[str, Any]
    delay: timedelta
    backoff: str
    """constant, linear or exponential."""
    jitter: tuple[timedelta, timedelta] | None
    count: int | None
    attempt_limit: timedelta | None
    total_limit: timedelta | None

    def delay_before(self, retry: int) -> timedelta:
        """How long to wait before the `retry`-th retry (1-based)."""
        factors = {"constant": 1, "linear": retry, "exponential": 2 ** (retry - 1)}
        seconds = self.delay.total_seconds() * factors[self.backoff]
        if self.jitter is not None:
            low, high = self.jitter
            seconds += workflow.random().uniform(low.total_seconds(), high.total_seconds())
        # An exponential backoff soon outgrows any timer: it waits the longest there is.
        return timedelta(seconds=min(seconds, LONGEST.total_seconds()))

    def allows(self, retry: int, elapsed: timedelta, wait: timedelta) -> bool:
        """Whether the `retry`-th retry may start after `wait`, `elapsed` into the attempts."""
        if self.count is not None and retry > self.count:
            return False
        return self.total_limit is None or elapsed + wait < self.total_limit


def policy_of(
    retry: Any, use: Mapping[str, Any], evaluate: Evaluate, *, instance: str
) -> RetryPolicy | None:
    """The policy `catch.retry` sets: inline, or named in `use.retries`."""
    if retry is None:
        return None
    if isinstance(retry, str):
        named = (use.get("retries") or {}).get(retry)
        if named is None:
            raise Fault(
                Problem.of(
                    CONFIGURATION,
                    f"retry policy {retry!r} is not defined in use.retries",
                    instance=instance,
                )
            )
        retry = named

    def optional(raw: Any, what: str, *, positive: bool = False) -> timedelta | None:
        if raw is None:
            return None
        return duration(raw, evaluate, what=what, instance=instance, positive=positive)

    limit = retry.get("limit") or {}
    attempt = limit.get("attempt") or {}
    jitter = retry.get("jitter")
    backoff = next(iter(retry.get("backoff") or {"constant": {}}))
    total_limit = optional(limit.get("duration"), "'retry.limit.duration'", positive=True)
    count = attempt.get("count")
    if count is None and total_limit is None:
        count = UNLIMITED_RETRIES
    return RetryPolicy(
        definition=retry,
        delay=optional(retry.get("delay"), "'retry.delay'") or timedelta(0),
        backoff=backoff,
        jitter=None
        if jitter is None
        else (
            duration(jitter["from"], evaluate, what="'retry.jitter.from'", instance=instance),
            duration(jitter["to"], evaluate, what="'retry.jitter.to'", instance=instance),
        ),
        count=count,
        attempt_limit=optional(
            attempt.get("duration"), "'retry.limit.attempt.duration'", positive=True
        ),
        total_limit=total_limit,
    )
