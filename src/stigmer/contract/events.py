"""CloudEvents: the one way an event is completed and checked, wherever it is made.

An `emit` task (in workflow code) and the API's EventService (for `stigmer events send`)
both build events here, with the CloudEvents SDK: `specversion`, `id` and `time` are
filled in when missing, `datacontenttype` is `application/json` when there is data and
none is named, and an event the CloudEvents spec refuses (no `source`, an extension
attribute that is not lower-case letters and digits, a `time` that is not a timestamp)
raises `EventError` naming the attribute. The result is the event's JSON object, as it
travels in signals, workflow outputs and the API.

Workflow code passes `id` and `time` from the workflow (its UUID and clock), so that a
replay builds the same event; the SDK's own defaults would read the wall clock.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from cloudevents.core.exceptions import BaseCloudEventException
    from cloudevents.core.formats.json import JSONFormat
    from cloudevents.core.v1.event import CloudEvent

EVENT_SIGNAL = "stigmer/event"
"""The signal that carries an event into a running WorkflowExecution."""
SPEC_VERSION = "1.0"


class EventError(ValueError):
    """An event the CloudEvents spec refuses; `attribute` names what is wrong."""

    def __init__(self, attribute: str, message: str) -> None:
        super().__init__(f"event.{attribute}: {message}")
        self.attribute = attribute
        self.reason = message


def cloud_event(
    attributes: Mapping[str, Any], *, id: str | None = None, time: datetime | None = None
) -> dict[str, Any]:
    """The complete event of `attributes` (its context attributes and `data`)."""
    given = dict(attributes)
    data = given.pop("data", None)
    given.setdefault("specversion", SPEC_VERSION)
    given.setdefault("id", id or str(uuid.uuid4()))
    given["time"] = _time(given["time"]) if "time" in given else (time or datetime.now(UTC))
    if data is not None:
        given.setdefault("datacontenttype", "application/json")
    try:
        event = CloudEvent(given, data)
    except BaseCloudEventException as exc:
        raise _first_problem(exc) from None
    written: dict[str, Any] = json.loads(JSONFormat().write(event))
    return written


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise EventError("time", f"{value!r} is not an RFC 3339 timestamp") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _first_problem(exc: BaseCloudEventException) -> EventError:
    errors = getattr(exc, "errors", None)
    if isinstance(errors, dict) and errors:
        attribute, problems = next(iter(errors.items()))
        return EventError(str(attribute), str(problems[0]) if problems else str(exc))
    return EventError("attributes", str(exc))
