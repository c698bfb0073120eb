"""ISO 8601 and object durations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from stigmer.engine.durations import parse_duration, parse_positive


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("PT30S", timedelta(seconds=30)),
        ("PT1.5S", timedelta(seconds=1.5)),
        ("P1DT2H3M4S", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("P2W", timedelta(weeks=2)),
        ({"minutes": 5}, timedelta(minutes=5)),
        ({"hours": 2, "minutes": 15, "seconds": 30}, timedelta(hours=2, minutes=15, seconds=30)),
        ({"days": 1, "milliseconds": 250}, timedelta(days=1, milliseconds=250)),
    ],
)
def test_valid(value: Any, expected: timedelta) -> None:
    assert parse_duration(value) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("P1M", "no fixed length"),
        ("P1Y", "no fixed length"),
        ("PT", "not an ISO 8601 duration"),
        ("5 minutes", "not an ISO 8601 duration"),
        ({}, "at least one unit"),
        ({"mins": 5}, "unknown duration unit"),
        ({"seconds": -1}, "non-negative integer"),
        ({"seconds": 1.5}, "non-negative integer"),
        ({"seconds": True}, "non-negative integer"),
        (30, "not int"),
    ],
)
def test_invalid(value: Any, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_duration(value)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("-PT5S", "negative"),
        ("P1000000000D", "longest duration Temporal keeps"),
        ({"days": 1_000_000_000}, "longest duration Temporal keeps"),
        ({"days": 200_000}, "longest duration Temporal keeps"),
    ],
)
def test_negative_and_too_long(value: Any, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_duration(value)


def test_positive_durations_refuse_zero() -> None:
    assert parse_positive("PT1S") == timedelta(seconds=1)
    with pytest.raises(ValueError, match="longer than zero"):
        parse_positive({"seconds": 0})
    assert parse_duration("P0D") == timedelta(0)
