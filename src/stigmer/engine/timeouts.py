"""Durations written in a task (`wait`, `timeout.after`, retry delays) and time limits.

A DSL duration is an ISO 8601 string, an object of units, or a runtime expression that
yields one of those; `evaluate` turns the expression form into a value first. One that
cannot be used (negative, zero where a limit is meant, longer than Temporal keeps) faults
the task with a configuration error naming it, before any timer is built from it.

A limit runs the bounded work as an asyncio task beside a workflow timer: when the timer
wins, the work is cancelled (and with it any activity it waits on) and the spec's timeout
error (type `.../errors/timeout`, status 408) is raised where a `try` can catch it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow

from stigmer.contract.problems import CONFIGURATION, TIMEOUT, Fault, Problem
from stigmer.engine.durations import parse_duration, parse_positive

T = TypeVar("T")

Evaluate = Callable[[Any], Any]
"""Evaluates the expressions inside a value written in the document."""


def duration(
    raw: Any, evaluate: Evaluate, *, what: str, instance: str, positive: bool = False
) -> timedelta:
    """The duration `raw` denotes, its expression (if any) evaluated first; longer than
    zero if `positive` (a time limit)."""
    value = evaluate(raw)
    try:
        return parse_positive(value) if positive else parse_duration(value)
    except ValueError as exc:
        raise Fault(
            Problem.of(CONFIGURATION, f"{what} is not a duration: {exc}", instance=instance)
        ) from None


def limit_of(
    timeout: Any, use: Mapping[str, Any], evaluate: Evaluate, *, instance: str
) -> timedelta | None:
    """The time limit a `timeout` property sets: inline, or named in `use.timeouts`."""
    if timeout is None:
        return None
    if isinstance(timeout, str):
        named = (use.get("timeouts") or {}).get(timeout)
        if named is None:
            raise Fault(
                Problem.of(
                    CONFIGURATION,
                    f"timeout {timeout!r} is not defined in use.timeouts",
                    instance=instance,
                )
            )
        timeout = named
    return duration(
        timeout["after"], evaluate, what="'timeout.after'", instance=instance, positive=True
    )


def timeout_error(what: str, limit: timedelta, *, instance: str) -> Problem:
    """The spec's timeout error for `what` exceeding `limit`."""
    return Problem.of(
        TIMEOUT,
        f"{what} did not finish within {limit}",
        title="Timed out",
        instance=instance,
    )


async def within(work: Awaitable[T], limit: timedelta, error: Problem) -> T:
    """The result of `work`, or a fault with `error` once `limit` has passed."""
    task = asyncio.ensure_future(work)
    try:
        done, _ = await workflow.wait([task], timeout=limit.total_seconds())
    except asyncio.CancelledError:
        task.cancel()
        raise
    if done:
        return task.result()
    task.cancel()
    # What the work does on its way out (a cancelled call's own fault) is not the story:
    # it ran out of time.
    with contextlib.suppress(asyncio.CancelledError, Fault):
        await task
    raise Fault(error)
