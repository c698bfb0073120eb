"""DSL durations: an ISO 8601 string (`PT5M`) or an object (`{minutes: 5}`), and their bounds.

ISO 8601 strings are parsed by `isodate`. Years and months are refused even though ISO
8601 allows them: they have no fixed length, and a deadline must not depend on the
calendar it happens to start in.

Temporal keeps timers and timeouts as Go `time.Duration` values, 64-bit nanoseconds: a
longer duration is silently cut to about 292 years by the server, and Python's
`timedelta` overflows soon after. A duration longer than `LONGEST` is therefore refused,
at validation when it is written and as a fault when an expression yields it, so no
timer or timeout is ever built from it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import isodate  # type: ignore[import-untyped]

LONGEST = timedelta(microseconds=(2**63 - 1) // 1000)
"""The longest duration Temporal keeps as it is (Go's `time.Duration`, about 292 years)."""

_OBJECT_UNITS = ("days", "hours", "minutes", "seconds", "milliseconds")


def parse_duration(value: Any) -> timedelta:
    """The duration `value` denotes; ValueError says what is wrong with it."""
    if isinstance(value, str):
        found = _parse_iso(value)
    elif isinstance(value, dict):
        found = _parse_object(value)
    else:
        raise ValueError(
            f"a duration is an ISO 8601 string or an object of {', '.join(_OBJECT_UNITS)}, "
            f"not {type(value).__name__}"
        )
    if found > LONGEST:
        raise ValueError(f"{_shown(value)} is longer than the longest duration Temporal keeps")
    return found


def parse_positive(value: Any) -> timedelta:
    """A duration that must be longer than zero (a timeout, a time limit)."""
    found = parse_duration(value)
    if found <= timedelta(0):
        raise ValueError(f"{_shown(value)} must be longer than zero")
    return found


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _parse_iso(text: str) -> timedelta:
    try:
        if text.endswith("T"):  # a time designator with no time after it
            raise isodate.ISO8601Error(text)
        found: timedelta | isodate.Duration = isodate.parse_duration(text)
    except (isodate.ISO8601Error, ValueError):
        raise ValueError(
            f"{text!r} is not an ISO 8601 duration such as 'PT30S' or 'P1DT2H'"
        ) from None
    except OverflowError:
        raise ValueError(f"{text!r} is longer than the longest duration Temporal keeps") from None
    if isinstance(found, isodate.Duration):
        raise ValueError(f"{text!r}: years and months have no fixed length; use weeks or days")
    if found < timedelta(0):
        raise ValueError(f"{text!r} is negative; a duration cannot be")
    return found


def _parse_object(value: dict[str, Any]) -> timedelta:
    unknown = sorted(set(value) - set(_OBJECT_UNITS))
    if unknown:
        raise ValueError(
            f"unknown duration unit(s) {', '.join(unknown)}; use {', '.join(_OBJECT_UNITS)}"
        )
    if not value:
        raise ValueError("a duration object needs at least one unit")
    for unit, amount in value.items():
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise ValueError(f"duration {unit} must be a non-negative integer, not {amount!r}")
    try:
        return timedelta(**{unit: value[unit] for unit in value})
    except OverflowError:
        raise ValueError(f"{value} is longer than the longest duration Temporal keeps") from None
