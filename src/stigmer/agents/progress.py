"""How a running agent reports progress: messages, todos and usage, redacted, as they happen.

Reports are queued and sent in order by one background sender, batched into a single
report when several are waiting, so the agent never waits on the API and a slow or
unreachable API never fails the agent. The sender retries with capped backoff; while the
API stays unreachable it keeps at most `MAX_QUEUED` messages, dropping the oldest, and
the next report that gets through says how many were dropped. What is still unsent when
the agent ends goes back with its result (`close`), to be recorded with its end: an
outage loses no message. Reports carry the runner's attempt: once a newer attempt has
taken over, the API refuses them and this attempt learns it is superseded. A report
leaves with at most `REPORT_BYTES` of messages; one refused for its size (a message over
the API's limit, a status grown past its own) is never retried: the run fails `too-large`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import structlog
from google.protobuf import json_format

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.api_failures import ApiError, ApiUnreachable, TooLarge, passing
from stigmer.client import WorkerClient
from stigmer.contract.limits import REPORT_BYTES, in_chunks
from stigmer.contract.problems import Problem, too_large
from stigmer.redaction import Redactor

log = structlog.get_logger("stigmer.agents")

TODO_STATUSES = ("pending", "in_progress", "completed")
MAX_QUEUED = 1000
"""Messages kept while the API is unreachable; older ones are dropped past this."""
LEFTOVER_BYTES = 512 * 1024
"""Unsent messages carried with the result at most: a result travels through Temporal."""
RETRY_FIRST, RETRY_CAP = 0.5, 5.0


class Reporter:
    def __init__(
        self, api: WorkerClient, execution_id: str, attempt: int, redactor: Redactor
    ) -> None:
        self.api = api
        self.execution_id = execution_id
        self.attempt = attempt
        self.redactor = redactor
        self.usage_total: pb.Usage | None = None
        self.fenced = asyncio.Event()
        """Set once the API takes no more reports of this attempt (superseded, or ended,
        or a report over a size limit: `refusal`)."""
        self.refusal: Problem | None = None
        """Why the run must fail: a report it made is over a size limit."""
        self._waiting = _Batch()
        self._in_flight = _Batch()
        """The batch being sent: still owed until the API has it."""
        self._refused = 0
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._sender: asyncio.Task[None] | None = None

    async def message(
        self, content: str, *, role: str = "assistant", tool_name: str = "", data: Any = None
    ) -> None:
        entry = pb.AgentMessage(role=role, content=self.redactor.text(content), tool_name=tool_name)
        if data is not None:
            json_format.ParseDict(self.redactor.data(data), entry.data)
        entry.at.GetCurrentTime()
        self._waiting.messages.append(entry)
        self._queued()

    async def todos(self, items: Sequence[Mapping[str, str]]) -> None:
        """Replace the todo list; each item has `content` and `status`."""
        self._waiting.todos = [
            pb.Todo(content=self.redactor.text(i["content"]), status=i.get("status", "pending"))
            for i in items
        ]
        self._queued()

    async def usage(self, usage: pb.Usage) -> None:
        """The execution's usage so far (a total, not an increment)."""
        self.usage_total = pb.Usage()
        self.usage_total.CopyFrom(usage)
        self._waiting.usage = self.usage_total
        self._queued()

    def result(self, result: str | dict[str, Any]) -> tuple[str, Any, bool]:
        """The agent's final text and structured result (with its JSON as the text), redacted."""
        if isinstance(result, dict):
            structured = self.redactor.data(result)
            return json.dumps(structured, ensure_ascii=False), structured, True
        return self.redactor.text(str(result)), None, False

    def start(self) -> None:
        self._sender = asyncio.create_task(self._send_loop(), name="progress")

    async def close(self, seconds: float) -> Leftover:
        """Send what is queued within `seconds`, then stop; what was left unsent."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._idle.wait()
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
        left = self._in_flight.followed_by(self._waiting)
        self._in_flight = self._waiting = _Batch()
        if self.fenced.is_set():
            return Leftover([], None)
        messages = list(left.messages)
        size = sum(message.ByteSize() for message in messages)
        while messages and size > LEFTOVER_BYTES:
            size -= messages.pop(0).ByteSize()
            left.dropped += 1
        notes = []
        if left.dropped:
            notes.append(
                f"{left.dropped} progress message(s) could not be recorded while the API "
                "was unreachable and were dropped"
            )
        if self._refused:
            notes.append(f"{self._refused} progress report(s) were refused by the API and dropped")
        for text in notes:
            note = pb.AgentMessage(role="system", content=text)
            note.at.GetCurrentTime()
            messages.append(note)
        return Leftover(messages, left.todos)

    def _queued(self) -> None:
        if self.fenced.is_set():
            self._waiting = _Batch()
            return
        self._waiting.trim()
        self._idle.clear()
        self._wake.set()

    async def _send_loop(self) -> None:
        delay = RETRY_FIRST
        while True:
            if self._waiting.empty():
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            batch, self._waiting = self._waiting.split(REPORT_BYTES)
            self._in_flight = batch
            try:
                await self.api.report_progress(batch.report(self.execution_id, self.attempt))
            except (ApiUnreachable, ApiError) as exc:
                if isinstance(exc, TooLarge):
                    log.error("progress too large", execution_id=self.execution_id, error=str(exc))
                    self.refusal = too_large(f"a progress report of the agent: {exc}")
                    self.fenced.set()
                    self._waiting = _Batch()
                    continue
                if isinstance(exc, ApiError) and exc.code == grpc.StatusCode.FAILED_PRECONDITION:
                    log.info("progress refused", execution_id=self.execution_id, reason=str(exc))
                    self.fenced.set()
                    self._waiting = _Batch()
                    continue
                if passing(exc):
                    self._waiting = batch.followed_by(self._waiting)
                    self._in_flight = _Batch()
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RETRY_CAP)
                    continue
                log.warning(
                    "progress report refused", execution_id=self.execution_id, error=str(exc)
                )
                self._refused += 1
            self._in_flight = _Batch()
            delay = RETRY_FIRST


@dataclass
class Leftover:
    """What a run could not send before it ended: recorded with its end instead."""

    messages: list[pb.AgentMessage]
    todos: list[pb.Todo] | None


class _Batch:
    """Reports waiting to be sent, merged: messages in order, the latest todos and usage."""

    def __init__(self) -> None:
        self.messages: deque[pb.AgentMessage] = deque()
        self.todos: list[pb.Todo] | None = None
        self.usage: pb.Usage | None = None
        self.dropped = 0

    def empty(self) -> bool:
        return not (self.messages or self.dropped or self.todos is not None or self.usage)

    def trim(self) -> None:
        while len(self.messages) > MAX_QUEUED:
            self.messages.popleft()
            self.dropped += 1

    def split(self, budget: int) -> tuple[_Batch, _Batch]:
        """A first report of at most `budget` bytes of messages (a message over it goes
        alone), with the todos, usage and count of dropped messages; and the rest."""
        first, rest = _Batch(), _Batch()
        sized = next(in_chunks(list(self.messages), pb.AgentMessage.ByteSize, budget), [])
        first.messages = deque(sized)
        rest.messages = deque(list(self.messages)[len(sized) :])
        first.todos, first.usage, first.dropped = self.todos, self.usage, self.dropped
        return first, rest

    def followed_by(self, later: _Batch) -> _Batch:
        """This batch (not sent) with what was queued after it: later values win."""
        merged = _Batch()
        merged.messages = self.messages + later.messages
        merged.todos = later.todos if later.todos is not None else self.todos
        merged.usage = later.usage or self.usage
        merged.dropped = self.dropped + later.dropped
        merged.trim()
        return merged

    def report(self, execution_id: str, attempt: int) -> pb.ProgressReport:
        report = pb.ProgressReport(id=execution_id, attempt=attempt)
        if self.dropped:
            note = report.append_messages.add(
                role="system",
                content=f"{self.dropped} progress message(s) were dropped while the API "
                "was unreachable",
            )
            note.at.GetCurrentTime()
        report.append_messages.extend(self.messages)
        if self.todos is not None:
            report.todos.extend(self.todos)
            report.replace_todos = True
        if self.usage is not None:
            report.usage.CopyFrom(self.usage)
        return report
