"""Per-task progress of a WorkflowExecution: what ran, with what input and output.

Progress is buffered in workflow state and sent in batches, each one local activity (a
marker in history) and one write through the API. A batch leaves when the workflow is
about to wait and nothing was sent in the last second, and at the end of the run; so a
task that needs no activity of its own adds no history event, and `stigmer executions
watch` lags the run by a second at most.

A run that never waits offers a batch now and then (the interpreter decides when, by the
work done since the last one), which also ends its workflow activation before Temporal's
deadlock detector (2 s) would. The activity writes it only when this worker wrote none
for the execution in the last `WRITE_INTERVAL` (wall clock, which an activity may read;
its answer is in history, so replay agrees); otherwise the batch stays buffered for the
next one.

The buffer keeps each task's last state by path, and sends what changed since the last
batch: a loop's tasks show their last run and how many runs there were, and a running
`for` shows its iteration, so the progress of a loop of any length stays as large as the
document. A batch the API did not take stays buffered and goes with the next one; what
the last one could not send is logged with its count, never dropped silently. A batch
is written in reports of at most `REPORT_BYTES`; one the API refuses for its size (the
status would grow past its limit) is logged and dropped, never retried: it stays too large.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from google.protobuf import json_format
from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import FailureError

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.api_failures import TooLarge
from stigmer.client import WorkerClient
from stigmer.contract.limits import REPORT_BYTES, in_chunks
from stigmer.contract.problems import Problem

RECORD_PROGRESS_ACTIVITY = "stigmer/engine/record-progress"
VALUE_BUDGET = 16 * 1024
"""Inputs and outputs larger than this (bytes of JSON) are summarized, not copied."""
MAX_DELAY = 1.0
"""Seconds of workflow time progress may wait in the buffer while the run waits."""
WRITE_INTERVAL = 0.5
"""Seconds of wall clock between two writes of an offered (not due) batch."""
WRITERS_KEPT = 10_000
"""Executions whose last write time a worker remembers."""

log = structlog.get_logger("stigmer.engine")


@dataclass
class TaskState:
    """One task's last state in the run, as a batch carries it."""

    path: str
    name: str
    status: str = ""
    runs: int = 0
    """How many times it started."""
    input: Any = None
    output: Any = None
    error: dict[str, Any] = field(default_factory=dict)
    execution_id: str = ""
    started_at: float = 0.0
    """Workflow time (seconds since the epoch) of its last start; 0 when it never started."""
    finished_at: float = 0.0
    iteration: int = 0
    """A running `for`: the iteration in progress, from 1."""
    iterations: int = 0


@dataclass
class ProgressBatch:
    execution_id: str
    tasks: list[TaskState]
    due: bool = True
    """False for a batch only offered: the activity may leave it for the next one."""


@dataclass
class Unsent:
    """What a run hands to its continuation: the counts, and the states not sent yet."""

    runs: dict[str, int] = field(default_factory=dict)
    states: list[TaskState] = field(default_factory=list)


class ProgressBuffer:
    """The progress of one run of an execution, in workflow state; workflow code only.

    The interpreter reports each task's start and end, and a `for` task's iteration; the
    buffer keeps each task's last state until a batch carries it to the API.
    """

    def __init__(self, execution_id: str, carried: Unsent | None = None) -> None:
        self.execution_id = execution_id
        self.runs: dict[str, int] = dict(carried.runs) if carried else {}
        self.unsent: dict[str, TaskState] = {s.path: s for s in carried.states} if carried else {}
        self.sending = False
        self.last_sent = float("-inf")
        """Workflow time of the last batch written or failed."""
        self.dropped = 0

    def started(self, path: str, name: str, input: Any, at: float) -> None:
        """A task started at workflow time `at`, on `input`."""
        state = self._state(path, name)
        runs = self.runs[path] = self.runs.get(path, 0) + 1
        state.status, state.input, state.started_at, state.runs = "running", input, at, runs
        state.output, state.error, state.finished_at = None, {}, 0.0
        state.execution_id = ""

    def ended(
        self,
        path: str,
        name: str,
        status: str,
        at: float,
        *,
        output: Any = None,
        error: dict[str, Any] | None = None,
        execution_id: str = "",
    ) -> None:
        """A task ended (`status`: completed, faulted, cancelled or skipped) at `at`."""
        state = self._state(path, name)
        state.status, state.finished_at, state.output = status, at, output
        state.error = error or {}
        state.execution_id = execution_id or state.execution_id
        state.iteration = state.iterations = 0
        state.runs = self.runs.get(path, 0)

    async def offer(self) -> None:
        """The run has worked a while without waiting: send what is buffered if none was
        sent lately, and let the workflow activation end."""
        await workflow.wait_condition(lambda: not self.sending)
        await self._send(due=False)  # even with nothing buffered: its activity ends the activation

    def iterating(self, path: str, iteration: int, iterations: int) -> None:
        """A `for` task moved to its `iteration`-th item (from 1) of `iterations`."""
        state = self._state(path, "")
        state.iteration, state.iterations = iteration, iterations

    def _state(self, path: str, name: str) -> TaskState:
        state = self.unsent.pop(path, None)
        if state is None:  # what was sent stands; this one carries what changed since
            state = TaskState(path, name, runs=self.runs.get(path, 0))
        state.name = state.name or name
        self.unsent[path] = state  # last changed last: a batch lists tasks as they moved
        return state

    async def flush(self, *, due: bool = True) -> None:
        """Send what is buffered as one batch; what the API did not take stays buffered."""
        if self.unsent and not self.sending:
            await self._send(due)

    async def _send(self, due: bool) -> None:
        batch = [_bounded(state) for state in self.unsent.values()]
        self.unsent, self.sending = {}, True
        written = False
        try:
            written = await workflow.execute_local_activity(
                RECORD_PROGRESS_ACTIVITY,
                ProgressBatch(self.execution_id, batch, due),
                result_type=bool,
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=RetryPolicy(maximum_attempts=3),
            )
        except FailureError:  # a local activity's failure comes unwrapped
            self.last_sent = workflow.time()  # the next try waits its second too
            workflow.logger.warning(
                "progress of %s: a batch of %d task states was not recorded; kept for the next",
                self.execution_id,
                len(batch),
            )
        finally:
            self.sending = False
        if written:
            self.last_sent = workflow.time()
        else:
            for state in batch:
                self._keep(state)

    def _keep(self, state: TaskState) -> None:
        """Put back a state that was not sent, under what changed since."""
        newer = self.unsent.pop(state.path, None)
        if newer is not None:
            _overlay(state, newer)
        self.unsent[state.path] = state

    async def send_while_waiting(self) -> None:
        """Runs beside the run: when it is about to wait with progress buffered, send it,
        at most once a second (a timer holds the rest until the second is over)."""
        while True:
            await workflow.wait_condition(lambda: bool(self.unsent) and not self.sending)
            due = self.last_sent + MAX_DELAY - workflow.time()
            if due > 0:
                await workflow.sleep(due)
            await self.flush()

    async def close(self) -> None:
        """The last batch of the run; what even it could not send is counted and logged."""
        await workflow.wait_condition(lambda: not self.sending)
        await self.flush()
        if self.unsent:
            self.dropped += len(self.unsent)
            workflow.logger.error(
                "progress of %s: %d task states could not be recorded and are dropped",
                self.execution_id,
                self.dropped,
            )
            self.unsent = {}

    def handover(self) -> Unsent:
        """What the next run of a continued execution starts from."""
        return Unsent(dict(self.runs), list(self.unsent.values()))


class ProgressActivities:
    def __init__(self, api: WorkerClient) -> None:
        self.api = api

        self.written: OrderedDict[str, float] = OrderedDict()
        """When this worker last wrote each execution's progress (monotonic clock)."""

    @activity.defn(name=RECORD_PROGRESS_ACTIVITY)
    async def record(self, batch: ProgressBatch) -> bool:
        """Write the batch; an offered one only when none was written lately. Whether it
        was written."""
        now = time.monotonic()
        last = self.written.get(batch.execution_id)
        if not batch.tasks or (not batch.due and last is not None and now - last < WRITE_INTERVAL):
            return False
        tasks = [task_progress(state) for state in batch.tasks]
        for chunk in in_chunks(tasks, pb.TaskProgress.ByteSize, REPORT_BYTES):
            try:
                await self.api.report_progress(
                    pb.ProgressReport(id=batch.execution_id, tasks=chunk)
                )
            except TooLarge as exc:  # retrying cannot make it smaller: dropped, and said so
                log.error("progress too large", execution_id=batch.execution_id, error=str(exc))
                break
        self.written[batch.execution_id] = now
        self.written.move_to_end(batch.execution_id)
        while len(self.written) > WRITERS_KEPT:
            self.written.popitem(last=False)
        return True


def task_progress(state: TaskState) -> pb.TaskProgress:
    """A task's state as the API records it."""
    task = pb.TaskProgress(
        path=state.path,
        name=state.name,
        status=state.status,
        execution_id=state.execution_id,
        runs=state.runs,
        iteration=state.iteration,
        iterations=state.iterations,
    )
    if state.started_at:
        task.started_at.FromDatetime(datetime.fromtimestamp(state.started_at, UTC))
        json_format.ParseDict(state.input, task.input)
    if state.finished_at:
        task.finished_at.FromDatetime(datetime.fromtimestamp(state.finished_at, UTC))
        if state.status == "completed":
            json_format.ParseDict(state.output, task.output)
    if state.error:
        task.error.CopyFrom(pb.ExecutionError(**Problem.from_dict(state.error).to_dict()))
    return task


def _overlay(older: TaskState, newer: TaskState) -> None:
    """`older` updated with what `newer`, a later change of the same task, says."""
    if newer.started_at:  # it ran again: nothing of the older run stands but the path
        older.input, older.started_at = newer.input, newer.started_at
        older.output, older.error, older.finished_at = None, {}, 0.0
        older.execution_id = ""
    if newer.finished_at:
        older.output, older.error = newer.output, newer.error
        older.finished_at = newer.finished_at
        older.execution_id = newer.execution_id or older.execution_id
        older.iteration = older.iterations = 0
    older.status = newer.status or older.status
    older.name = older.name or newer.name
    older.runs = max(older.runs, newer.runs)
    if newer.iteration:
        older.iteration, older.iterations = newer.iteration, newer.iterations


def _bounded(state: TaskState) -> TaskState:
    """The state with an input or output over `VALUE_BUDGET` summarized (bounded when it
    leaves rather than when it is reported: a loop reports far more than it sends)."""
    state.input, state.output = _summarized(state.input), _summarized(state.output)
    return state


def _summarized(value: Any) -> Any:
    if value is None:
        return None
    size = len(json.dumps(value, default=str))
    if size <= VALUE_BUDGET:
        return value
    return {"summary": f"{type(value).__name__} of {size} bytes, not copied into progress"}
