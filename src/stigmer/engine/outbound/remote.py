"""The boundary between a task's workflow code and its engine activity.

Workflow side: `call_activity` runs the task's activity once on the engine queue and turns
its failure into the DSL error it carries. One attempt, because such a call may have side
effects and the DSL leaves retrying to the author (`try` with `retry`); the activity
heartbeats, so a lost worker is noticed within `HEARTBEAT_TIMEOUT`.

Activity side: `activity_of` makes the activity of a task type from the function that
does its work: `Request` reads the request the task sent (its deferred secrets
resolved), and a `Fault` becomes the non-retryable error that carries it.

Secrets never leave the activity. Each call has a `Redactor` that every secret value it
resolves is added to (and any credential made from one, see `auth`); the call's result
and its error, whatever raised it, go through the redactor before Temporal records them,
and its log lines while it runs (`stigmer.redaction.active`). So the workflow history,
the task's output and progress, the execution's error and the logs show `***` where a
secret was, for every task type that runs through here, whether the call succeeded or
failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import FailureError

from stigmer.contract.payloads import input_problem
from stigmer.contract.problems import RUNTIME, Fault, Problem, from_failure, is_cancellation
from stigmer.engine.outbound.secrets import SecretSource, declared
from stigmer.engine.tasktype import Activities, Services, TaskScope
from stigmer.redaction import Redactor, active
from stigmer.sealing.guard import authentic, noted
from stigmer.secrets import SecretStore

START_TO_CLOSE = timedelta(hours=1)
"""The longest one call may run; a task `timeout` shortens a call like any other task."""
HEARTBEAT_TIMEOUT = timedelta(seconds=30)
HEARTBEAT_EVERY = 5.0


async def call_activity(name: str, request: dict[str, Any], scope: TaskScope) -> Any:
    """Run activity `name` on `request` and return its result; a failure faults the task."""
    sent = {"task": scope.pointer, "secrets": declared(scope), "args": request}
    too_large = input_problem(sent, f"the request of {scope.pointer}")
    if too_large is not None:
        raise Fault(too_large.with_instance(scope.pointer))
    try:
        result = await workflow.execute_activity(
            name,
            sent,
            start_to_close_timeout=START_TO_CLOSE,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
    except FailureError as exc:
        if is_cancellation(exc):
            raise
        problem = noted(from_failure(exc, instance=scope.pointer), "activity-failure")
        raise Fault(problem) from exc
    return authentic(result, "activity-result", f"the result of {scope.pointer}")


@dataclass(frozen=True)
class Request:
    """A task's request as its activity sees it: deferred secrets resolved."""

    task: str
    """The task's JSON pointer: the `instance` of every error the activity raises."""
    args: dict[str, Any]
    secrets: SecretSource
    allowed: list[str]
    redactor: Redactor
    """Every secret value this call resolved, to keep out of what it returns or raises."""

    @classmethod
    def read(cls, raw: dict[str, Any], secrets: SecretSource, redactor: Redactor) -> Request:
        task = str(raw.get("task", ""))
        allowed = [str(name) for name in raw.get("secrets") or []]
        args = secrets.resolve(raw.get("args") or {}, allowed, instance=task, redactor=redactor)
        return cls(task, args, secrets, allowed, redactor)

    def fault(
        self, type: str, detail: str, *, status: int | None = None, title: str | None = None
    ) -> Fault:
        return Fault(Problem.of(type, detail, instance=self.task, status=status, title=title))

    def secret(self, name: str) -> Any:
        found = self.secrets.lookup(
            [name], self.allowed, instance=self.task, redactor=self.redactor
        )
        return found[name]


@asynccontextmanager
async def fault_boundary(redactor: Redactor) -> AsyncIterator[None]:
    """Inside an activity: heartbeat, and raise what went wrong as the error that carries
    its DSL fault, redacted. An unexpected exception becomes a runtime error with its
    frames kept (its message may quote a URL or a header it was given)."""
    beating = asyncio.create_task(_heartbeat())
    try:
        yield
    except Fault as fault:
        raise _redacted(fault.problem, redactor).application_error() from None
    except Exception as exc:
        problem = Problem.of(RUNTIME, f"{type(exc).__name__}: {exc}", title="Call failed")
        error = _redacted(problem, redactor).application_error()
        raise error.with_traceback(exc.__traceback__) from None
    finally:
        beating.cancel()


def _redacted(problem: Problem, redactor: Redactor) -> Problem:
    return Problem.from_dict(redactor.data(problem.to_dict()))


Perform = Callable[[Request, Services], Awaitable[Any]]
"""The work of a task's activity: the request, and what the worker provides."""


def activity_of(name: str, perform: Perform) -> Callable[[Services], Activities]:
    """A task type's `activities`: one activity `name` doing `perform`."""

    def activities(services: Services) -> Activities:
        secrets = SecretSource(SecretStore(services.settings.data_dir))

        @activity.defn(name=name)
        async def run(raw: dict[str, Any]) -> Any:
            redactor = Redactor()
            with active(redactor):
                async with fault_boundary(redactor):
                    return redactor.data(
                        await perform(Request.read(raw, secrets, redactor), services)
                    )

        return {name: run}

    return activities


async def _heartbeat() -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(HEARTBEAT_EVERY)
