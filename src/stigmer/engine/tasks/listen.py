"""`listen`: wait for events, per the consumption strategy (`one`, `any`, `all`, `until`).

While it listens, the run is subscribed through the API so that published events reach
it; events sent straight to the run wait in its inbox. Events are considered in arrival
order. The output is the consumed events as `read` says (`data` by default), each passed
through `foreach` when set, which runs as each event is consumed; events consumed by an
`until` strategy are left out, as the spec asks. Event-driven schedules reuse `consume`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from stigmer.contract.problems import CONFIGURATION, Fault, Problem, from_failure
from stigmer.engine import expressions as ex
from stigmer.engine.events import (
    SUBSCRIBE_ACTIVITY,
    UNSUBSCRIBE_ACTIVITY,
    Filter,
    Inbox,
    Subscription,
    read,
)
from stigmer.engine.expressions import Evaluator
from stigmer.engine.models import ListenTask
from stigmer.engine.tasktype import Activities, Checks, Services, TaskScope, TaskType, plain

SUBSCRIPTION_ATTEMPTS = 10


@dataclass(frozen=True)
class Matching:
    """What filter expressions are evaluated with."""

    evaluator: Evaluator
    args: Mapping[str, Any]
    pointer: str

    def test(self, filter_: Filter, event: Mapping[str, Any]) -> bool:
        return filter_.matches(event, self.evaluator, self.args, self.pointer)


@dataclass
class _Strategy:
    """Progress of one consumption strategy over the events offered to it."""

    definition: Mapping[str, Any]
    filters: list[Filter] = field(default_factory=list)
    matched: list[bool] = field(default_factory=list)
    until: _Strategy | None = None
    consumed: int = 0

    @classmethod
    def of(cls, definition: Mapping[str, Any]) -> _Strategy:
        if "one" in definition:
            filters = [definition["one"]]
        else:
            filters = list(definition.get("all") or definition.get("any") or [])
        until = definition.get("until")
        return cls(
            definition,
            [Filter(f) for f in filters],
            [False] * len(filters),
            cls.of(until) if "any" in definition and isinstance(until, dict) else None,
        )

    def offer(self, event: dict[str, Any], matching: Matching) -> bool:
        """Whether this strategy consumes `event`."""
        if "all" in self.definition:
            for index, candidate in enumerate(self.filters):
                if not self.matched[index] and matching.test(candidate, event):
                    self.matched[index] = True
                    return True
            return False
        if self.filters and not any(matching.test(f, event) for f in self.filters):
            return False  # `any: []` takes every event
        self.consumed += 1
        return True

    def done(self, outputs: list[Any], matching: Matching) -> bool:
        if "all" in self.definition:
            return all(self.matched)
        if "one" in self.definition or "until" not in self.definition:
            return self.consumed > 0
        if self.until is not None:
            return self.until.done([], matching)
        result = matching.evaluator.field(
            self.definition["until"], outputs, matching.args, instance=matching.pointer
        )
        return result is not None and result is not False


async def consume(
    strategy_definition: Mapping[str, Any],
    inbox: Inbox,
    matching: Matching,
    each: Callable[[dict[str, Any], int], Awaitable[Any]],
) -> list[Any]:
    """Consume events from `inbox` until the strategy is satisfied; `each` turns every
    consumed event (with its index) into an output, as it is consumed."""
    strategy = _Strategy.of(strategy_definition)
    outputs: list[Any] = []
    position = 0
    while not strategy.done(outputs, matching):
        await _arrival(inbox, position)
        for index, event in inbox.unconsumed():
            if strategy.until is not None and strategy.until.offer(event, matching):
                inbox.consumed.add(index)
            elif strategy.offer(event, matching):
                inbox.consumed.add(index)
                outputs.append(await each(event, len(outputs)))
            if strategy.done(outputs, matching):
                break
        position = len(inbox.events)
    return outputs


async def run(task: ListenTask, input: Any, scope: TaskScope) -> Any:
    inbox: Inbox | None = scope.runner.inbox
    if inbox is None:
        raise Fault(
            Problem.of(CONFIGURATION, "this run cannot receive events", instance=scope.pointer)
        )
    mode = task.listen.read or "data"
    iterator = plain(task.foreach) if task.foreach is not None else None

    async def each(event: dict[str, Any], index: int) -> Any:
        return await _through(iterator, read(event, mode), index, input, scope)

    subscription = Subscription(workflow.info().workflow_id, scope.pointer)
    await subscribe(subscription)
    try:
        return await consume(
            plain(task.listen.to), inbox, Matching(scope.evaluator, scope.args, scope.pointer), each
        )
    finally:
        await unsubscribe(subscription)


async def _arrival(inbox: Inbox, seen: int) -> None:
    """Until an event beyond the first `seen` has arrived."""
    await workflow.wait_condition(lambda: len(inbox.events) > seen)


async def _through(
    iterator: Mapping[str, Any] | None, item: Any, index: int, input: Any, scope: TaskScope
) -> Any:
    """An event through `foreach`: its `do` with the item and index as variables."""
    if iterator is None:
        return item
    variables = {iterator.get("item", "item"): item, iterator.get("at", "index"): index}
    value = item
    if iterator.get("do"):
        value = await scope.run_list(
            iterator["do"], input, f"{scope.pointer}/foreach/do", variables
        )
    return scope.runner.shape_output(iterator, value, {**scope.args, **variables}, scope.pointer)


async def subscribe(subscription: Subscription) -> None:
    """Subscribe the run to published events; a Fault once the API stays unreachable."""
    await _activity(SUBSCRIBE_ACTIVITY, subscription, "subscribe to events")


async def unsubscribe(subscription: Subscription) -> None:
    await _activity(UNSUBSCRIBE_ACTIVITY, subscription, "unsubscribe from events")


async def _activity(name: str, subscription: Subscription, what: str) -> None:
    try:
        await workflow.execute_activity(
            name,
            subscription,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(
                maximum_attempts=SUBSCRIPTION_ATTEMPTS, maximum_interval=timedelta(seconds=10)
            ),
        )
    except ActivityError as exc:
        problem = from_failure(exc, instance=subscription.key)
        raise Fault(
            Problem.of(
                problem.type,
                f"could not {what} after {SUBSCRIPTION_ATTEMPTS} attempts: "
                f"{problem.detail or problem.title}",
                instance=subscription.key,
            )
        ) from exc


def check(task: ListenTask, pointer: str, checks: Checks) -> None:
    """Filters are checked as the events they will see: `${ }` on an attribute value."""
    to = plain(task.listen.to)
    checks.template(to, f"{pointer}/listen/to")
    if isinstance(to.get("until"), str):
        checks.field(to["until"], f"{pointer}/listen/to/until", ex.TASK)
    iterator = task.foreach
    if iterator is not None and iterator.do is not None:
        with checks.declaring(iterator.item or "item", iterator.at or "index"):
            checks.task_list(iterator.do, f"{pointer}/foreach/do")


def activities(services: Services) -> Activities:
    from stigmer.engine.publishing import EventActivities

    events = EventActivities(services.api)
    return {SUBSCRIBE_ACTIVITY: events.subscribe, UNSUBSCRIBE_ACTIVITY: events.unsubscribe}


TASK = TaskType(
    kind="listen",
    variant=None,
    model=ListenTask,
    run=run,
    check=check,
    activities=activities,
    example="""
document: {dsl: '1.0.3', namespace: examples, name: listen, version: '1.0.0'}
do:
  - waitForStartup:
      listen:
        to:
          all:
            - with: {type: com.example.vet.started}
            - with: {type: com.example.vet.ready}
        read: data
""",
)
