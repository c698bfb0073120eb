"""What the tasks that leave the workflow through an engine activity share.

Workflow side: `call_activity` runs the task's activity once on the engine queue and turns
its failure into the DSL error it carries. One attempt, because such a call may have side
effects and the DSL leaves retrying to the author (`try` with `retry`); the activity
heartbeats, so a lost worker is noticed within `HEARTBEAT_TIMEOUT`.

Activity side: `Request` reads the request a task sent (with its deferred secrets
resolved), `fault_boundary` turns a `Fault` into the non-retryable error that carries
it, and `load_resource` reads an external resource (a document, a proto, a script).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import FailureError

from stigmer.contract.problems import (
    COMMUNICATION,
    CONFIGURATION,
    Fault,
    Problem,
    from_failure,
    is_cancellation,
)
from stigmer.engine.tasks import TaskScope
from stigmer.engine.tasks.secrets import SecretSource, declared

START_TO_CLOSE = timedelta(hours=1)
"""The longest one call may run; a task `timeout` shortens a call like any other task."""
HEARTBEAT_TIMEOUT = timedelta(seconds=30)
HEARTBEAT_EVERY = 5.0


async def call_activity(name: str, request: dict[str, Any], scope: TaskScope) -> Any:
    """Run activity `name` on `request` and return its result; a failure faults the task."""
    try:
        return await workflow.execute_activity(
            name,
            {"task": scope.pointer, "secrets": declared(scope), "args": request},
            start_to_close_timeout=START_TO_CLOSE,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
    except FailureError as exc:
        if is_cancellation(exc):
            raise
        raise Fault(from_failure(exc, instance=scope.pointer)) from exc


@dataclass(frozen=True)
class Request:
    """A task's request as its activity sees it: deferred secrets resolved."""

    task: str
    """The task's JSON pointer: the `instance` of every error the activity raises."""
    args: dict[str, Any]
    secrets: SecretSource
    allowed: list[str]

    @classmethod
    def read(cls, raw: dict[str, Any], secrets: SecretSource) -> Request:
        task = str(raw.get("task", ""))
        allowed = [str(name) for name in raw.get("secrets") or []]
        args = secrets.resolve(raw.get("args") or {}, allowed, instance=task)
        return cls(task, args, secrets, allowed)

    def fault(
        self, type: str, detail: str, *, status: int | None = None, title: str | None = None
    ) -> Fault:
        return Fault(Problem.of(type, detail, instance=self.task, status=status, title=title))

    def secret(self, name: str) -> Any:
        return self.secrets.lookup([name], self.allowed, instance=self.task)[name]


@asynccontextmanager
async def fault_boundary() -> AsyncIterator[None]:
    """Inside an activity: heartbeat, and raise a DSL fault as the error that carries it."""
    beating = asyncio.create_task(_heartbeat())
    try:
        yield
    except Fault as fault:
        raise fault.problem.application_error() from None
    finally:
        beating.cancel()


async def _heartbeat() -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(HEARTBEAT_EVERY)


def endpoint_uri(endpoint: Any) -> str:
    """The URI of an endpoint: a string or an object with `uri`."""
    if isinstance(endpoint, dict):
        return str(endpoint.get("uri", ""))
    return str(endpoint)


async def load_resource(resource: dict[str, Any], request: Request) -> tuple[bytes, str]:
    """The content and location of an external resource (`{endpoint: ...}`).

    `http(s)://` is fetched (with the endpoint's authentication, if any); `file://` and
    plain paths are read from the worker's disk. `file://app/x.proto`, as the spec's
    examples write it, is the relative path `app/x.proto`.
    """
    endpoint = resource.get("endpoint")
    uri = endpoint_uri(endpoint)
    scheme = urlsplit(uri).scheme.lower()
    if scheme in ("http", "https"):
        # Imported on use: the HTTP module builds on this one.
        from stigmer.engine.tasks.http import fetch

        auth = endpoint.get("authentication") if isinstance(endpoint, dict) else None
        return await fetch(uri, auth, request), uri
    path = local_path(uri)
    if path is None:
        raise request.fault(CONFIGURATION, f"cannot load {uri!r}: use an http(s) or file URI")
    try:
        return await asyncio.to_thread(path.read_bytes), str(path)
    except OSError as exc:
        raise request.fault(COMMUNICATION, f"cannot read {path}: {exc.strerror or exc}") from None


def local_path(uri: str) -> Path | None:
    """The file a `file://` URI or a plain path names (None for another scheme)."""
    parts = urlsplit(uri)
    if parts.scheme == "file":
        host = parts.netloc if parts.netloc not in ("", "localhost") else ""
        return Path(unquote(host + parts.path) if host else unquote(parts.path))
    if parts.scheme == "" or len(parts.scheme) == 1:  # no scheme, or a Windows drive
        return Path(uri)
    return None
