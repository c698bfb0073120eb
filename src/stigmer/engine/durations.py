"""DSL durations: an ISO 8601 string (`PT5M`) or an object (`{minutes: 5}`).

Years and months are refused even though ISO 8601 allows them: they have no fixed length,
and a deadline must not depend on the calendar it happens to start in.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

_ISO = re.compile(
    r"^P(?!$)(?:(?P<years>\d+(?:\.\d+)?)Y)?(?:(?P<months>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)

_OBJECT_UNITS = ("days", "hours", "minutes", "seconds", "milliseconds")


def parse_duration(value: Any) -> timedelta:
    """The duration `value` denotes; ValueError says what is wrong with it."""
    if isinstance(value, str):
        return _parse_iso(value)
    if isinstance(value, dict):
        return _parse_object(value)
    raise ValueError(
        f"a duration is an ISO 8601 string or an object of {', '.join(_OBJECT_UNITS)}, "
        f"not {type(value).__name__}"
    )


def _parse_iso(text: str) -> timedelta:
    match = _ISO.match(text)
    if not match:
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as 'PT30S' or 'P1DT2H'")
    parts = {name: float(v) for name, v in match.groupdict().items() if v is not None}
    if parts.get("years") or parts.get("months"):
        raise ValueError(f"{text!r}: years and months have no fixed length; use weeks or days")
    return timedelta(
        weeks=parts.get("weeks", 0.0),
        days=parts.get("days", 0.0),
        hours=parts.get("hours", 0.0),
        minutes=parts.get("minutes", 0.0),
        seconds=parts.get("seconds", 0.0),
    )


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
    return timedelta(**{unit: value[unit] for unit in value})
