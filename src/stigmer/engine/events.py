"""Events in workflow code: the inbox a run's `listen` tasks read, and their filters.

Events reach a running WorkflowExecution as Temporal signals (sent through the API, see
`stigmer events send`), so their arrival is recorded in history and replays the same.
An event waits in the inbox until a `listen` task consumes it; events that arrive while
no task listens for them stay there for a later `listen` of the same run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from temporalio import workflow

from stigmer.contract.events import EVENT_SIGNAL
from stigmer.engine import expressions as ex
from stigmer.engine.expressions import Evaluator

EMIT_EVENT_ACTIVITY = "stigmer/engine/emit-event"
SUBSCRIBE_ACTIVITY = "stigmer/engine/subscribe"
UNSUBSCRIBE_ACTIVITY = "stigmer/engine/unsubscribe"


@dataclass
class Emission:
    """What the emit activity publishes: an event, from a run."""

    execution_id: str
    event: dict[str, Any]


@dataclass
class Subscription:
    """A run listening for published events, in the API's list of subscribers."""

    workflow_id: str
    key: str
    """What listens: a task's pointer (one run may listen in several places at once)."""


@dataclass
class Inbox:
    """Events received by a run, in arrival order, each consumed at most once."""

    events: list[dict[str, Any]] = field(default_factory=list)
    consumed: set[int] = field(default_factory=set)

    def receive(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    def unconsumed(self, start: int = 0) -> list[tuple[int, dict[str, Any]]]:
        return [
            (index, event)
            for index, event in enumerate(self.events[start:], start)
            if index not in self.consumed
        ]


@dataclass
class Filter:
    """An `eventFilter`: attributes to match, and correlations that must agree."""

    definition: Mapping[str, Any]
    expected: dict[str, Any] = field(default_factory=dict)
    """Correlation values fixed by the first event that matched (when `expect` is unset)."""

    def matches(
        self, event: Mapping[str, Any], evaluator: Evaluator, args: Mapping[str, Any], pointer: str
    ) -> bool:
        wanted = self.definition.get("with") or {}
        if not all(
            _attribute_matches(event, name, value, evaluator, args, pointer)
            for name, value in wanted.items()
        ):
            return False
        return self._correlates(event, evaluator, args, pointer)

    def _correlates(
        self, event: Mapping[str, Any], evaluator: Evaluator, args: Mapping[str, Any], pointer: str
    ) -> bool:
        found: dict[str, Any] = {}
        for name, correlation in (self.definition.get("correlate") or {}).items():
            value = evaluator.field(correlation["from"], event, args, instance=pointer)
            if "expect" in correlation:
                expected = evaluator.template(correlation["expect"], event, args, instance=pointer)
            else:
                expected = self.expected.get(name, value)
            if value != expected:
                return False
            found[name] = value
        self.expected.update(found)
        return True


def _attribute_matches(
    event: Mapping[str, Any],
    name: str,
    wanted: Any,
    evaluator: Evaluator,
    args: Mapping[str, Any],
    pointer: str,
) -> bool:
    """A `${ }` expression is a condition on the attribute; other strings are regular
    expressions the whole attribute must match; other values must be equal (objects by
    their own fields: the event may carry more)."""
    if name not in event:
        return False
    actual = event[name]
    if ex.strict_body(wanted) is not None:
        result = evaluator.field(wanted, actual, args, instance=pointer)
        return result is not None and result is not False
    if isinstance(wanted, str) and isinstance(actual, str):
        return re.fullmatch(wanted, actual) is not None
    return _contains(actual, wanted)


def _contains(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(
            key in actual and _contains(actual[key], value) for key, value in wanted.items()
        )
    return bool(actual == wanted)


class ReceivesEvents:
    """Mixed into a workflow: the events sent to it (signals) wait in `self.inbox`."""

    def __init__(self) -> None:
        self.inbox = Inbox()

    @workflow.signal(name=EVENT_SIGNAL)
    def receive(self, event: dict[str, Any]) -> None:
        self.inbox.receive(event)


def read(event: dict[str, Any], mode: str) -> Any:
    """What a `listen` task's output holds of an event (`listen.read`)."""
    if mode == "envelope":
        return event
    if mode == "raw":
        data = event.get("data")
        return data if isinstance(data, str) else ex.to_text(data)
    return event.get("data")
