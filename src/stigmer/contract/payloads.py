"""Whether a value fits in one Temporal payload, checked before Temporal sees it.

Past Temporal's payload limit the SDK itself fails the activity, with an error the
platform did not make (and so cannot tell from a forged one). Checked here first, a
result over it fails its activity with the platform's own `too-large` error instead,
naming the result's size and the limit, never retried. An activity's input over it would
fail the workflow task that schedules it, again at every try: workflow code checks it
before scheduling (`input_problem`) and faults the task `too-large` instead.
"""

from __future__ import annotations

from typing import Any, TypeVar

from temporalio import activity, workflow

from stigmer.contract.limits import TEMPORAL_PAYLOAD_BYTES, over_limit
from stigmer.contract.problems import Problem, too_large

T = TypeVar("T")

PAYLOAD_ROOM = TEMPORAL_PAYLOAD_BYTES - 64 * 1024
"""The most a result may take before it is sealed: Temporal's limit, less room for the
seal (`stigmer.sealing`)."""
PAYLOAD_LIMIT = "Temporal's payload limit (2 MiB, less 64 KiB for the seal)"


def payload_size(value: Any) -> int:
    """The bytes `value` takes as the running activity's payload converter makes it."""
    return activity.payload_converter().to_payload(value).ByteSize()


def within_payload_limit(result: T) -> T:
    """The running activity's `result`, or its `too-large` failure (activity code only)."""
    size = payload_size(result)
    if size > PAYLOAD_ROOM:
        what = f"the result of {activity.info().activity_type}"
        raise too_large(over_limit(what, size, PAYLOAD_ROOM, PAYLOAD_LIMIT)).application_error()
    return result


def input_problem(value: Any, what: str) -> Problem | None:
    """The `too-large` problem of an activity input over the limit, or None (workflow code)."""
    size = workflow.payload_converter().to_payload(value).ByteSize()
    if size > PAYLOAD_ROOM:
        return too_large(over_limit(what, size, PAYLOAD_ROOM, PAYLOAD_LIMIT))
    return None
