"""Records follow Temporal: an execution whose run ended is recorded as ended, whatever ended it.

An execution's own workflow records its end and tells its caller. When it cannot — it was
terminated or reset from outside the platform, timed out, or gave up recording because
the API stayed unreachable for longer than its caller could wait — the record would stay
open forever. The reconciler asks Temporal how such runs stand and records the end
Temporal knows (the ending the workflow returned or failed with, or the reason it
stopped), then tells the caller.

Each sweep finds them three ways, so none waits behind the others however many are open:
- *closed runs*: Temporal's visibility lists the runs of the platform's execution
  workflows that closed since the last sweep (with a margin for visibility's lag); those
  whose record is still open are reconciled at once;
- *stuck runs*: a run whose workflow tasks keep failing because what it sends is over
  Temporal's size limits can never go on: it is recorded FAILED `too-large`, its caller
  told, and its workflow terminated;
- *the walk*: a cursor moves through every quiet open execution, `reconcile_batch` of
  them per sweep, for what visibility cannot show: a workflow gone from Temporal, and a
  PENDING execution whose workflow was never started (the API died between storing it
  and starting it), which is started so a call is never lost (one cancelled meanwhile is
  ended).
Only the leading API replica sweeps (see `Leadership`); every write is optimistic, so
two replicas that both believe they lead for a moment record nothing twice.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import structlog
from temporalio.service import RPCError, RPCStatusCode

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.background import Background
from stigmer.config import Settings
from stigmer.contract import problems
from stigmer.contract.limits import TEMPORAL_PAYLOAD_BYTES, OverLimit, over_limit
from stigmer.handshake.ending import report_of
from stigmer.resources.executions import (
    TOLD,
    end,
    has_ended,
    kind_of_id,
    temporal_workflow_id,
)
from stigmer.server.callbacks import Callbacks
from stigmer.server.definitions import document_of
from stigmer.server.launcher import Fate, Launcher
from stigmer.server.recorder import Recorder
from stigmer.store.database import NotFound
from stigmer.store.leadership import Leadership
from stigmer.store.store import Store
from stigmer.temporal import TemporalUnreachableError

log = structlog.get_logger("stigmer.server")

QUIET = timedelta(seconds=10)
"""An execution changed this recently is left out of the walk: its workflow is at work."""
START_GRACE = timedelta(seconds=30)
"""A PENDING execution without a workflow this old was stored by a creation that died."""
RECHECK_SECONDS = 60.0
"""A running execution the walk found running is asked about again no sooner than this."""
VISIBILITY_MARGIN = timedelta(seconds=60)
"""How much earlier than the last sweep each sweep looks for closed runs: visibility may
list a run a moment after it closed, and the API's clock may differ from Temporal's."""
LISTED_PER_SWEEP = 10_000
"""Closed (or stuck) runs one sweep reads at most; past that, the walk finds the rest."""


class Reconciler:
    def __init__(
        self,
        store: Store,
        launcher: Launcher,
        recorder: Recorder,
        callbacks: Callbacks,
        settings: Settings,
        leadership: Leadership,
    ) -> None:
        self.store = store
        self.leadership = leadership
        self.launcher = launcher
        self.recorder = recorder
        self.callbacks = callbacks
        self.interval = settings.reconcile_interval.total_seconds()
        self.batch = settings.reconcile_batch
        self.lookback = settings.reconcile_lookback
        self._closed_since: datetime | None = None
        """When the last sweep began: runs closed since (less the margin) are looked for."""
        self._cursor = ""
        """Where the walk goes on from: "" starts it over."""
        self._size_reports = True
        """Whether Temporal reports runs stuck on its size limits (older servers do not)."""
        self._checked: dict[str, float] = {}
        self._background = Background("reconciler")

    def start(self) -> None:
        self._background.start(self._loop())

    async def stop(self) -> None:
        await self._background.stop()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if not self.leadership.leads:
                self._closed_since = None  # leading again, it looks back `lookback`
                continue
            try:
                await self.sweep()
            except (TemporalUnreachableError, OSError) as exc:
                log.warning("reconciler skipped a sweep", error=str(exc))
            except Exception:
                log.exception("reconciler sweep failed")

    async def sweep(self) -> int:
        """One pass: runs closed since the last, runs stuck on a size limit, and the next
        page of the walk through every open execution; how many executions changed."""
        began = datetime.now(UTC)
        since = (self._closed_since or began - self.lookback) - VISIBILITY_MARGIN
        closed = await self.launcher.closed_since(since, LISTED_PER_SWEEP)
        self._closed_since = began
        changed = 0
        for execution in await self._closed_unreconciled(closed):
            after = await self.reconcile(execution)
            changed += after.revision != execution.revision
        for execution_id in _execution_ids(await self._stuck()):
            changed += await self._too_large(execution_id)
        return changed + await self._walk()

    async def _closed_unreconciled(self, workflow_ids: list[str]) -> list[pb.Execution]:
        """The executions of these closed runs whose records do not follow them yet."""
        if len(workflow_ids) >= LISTED_PER_SWEEP:
            log.warning(
                "reconciler: more runs closed than one sweep reads; the walk finds the rest",
                read=len(workflow_ids),
            )
        return await self.store.executions.unreconciled_among(_execution_ids(workflow_ids))

    async def _stuck(self) -> list[str]:
        """The runs Temporal reports stuck on its size limits, when it reports them."""
        if not self._size_reports:
            return []
        try:
            return await self.launcher.stuck_on_size(LISTED_PER_SWEEP)
        except RPCError as exc:
            if exc.status != RPCStatusCode.INVALID_ARGUMENT:
                raise
            log.warning("reconciler: Temporal does not report runs stuck on its size limits")
            self._size_reports = False
            return []

    async def _too_large(self, execution_id: str) -> bool:
        """A run that can never go on: record it FAILED, tell its caller, terminate it;
        whether its record changed."""
        try:
            execution = await self.store.executions.get(execution_id)
        except NotFound:
            return False  # not this platform's (another sharing its queues), or deleted
        workflow_id = execution.status.temporal_workflow_id
        problem = problems.too_large(
            f"its workflow {workflow_id} could not go on: "
            + over_limit(
                "a payload it made", None, TEMPORAL_PAYLOAD_BYTES, "Temporal's payload limit"
            )
            + ", so its workflow tasks kept failing"
        )
        before = execution.revision
        if not has_ended(execution.status):
            report = _problem_ending(execution.id, pb.FAILED, problem)
            execution = await self.recorder.update(execution.id, lambda s: end(s, report))
        log.error(
            "execution stopped: its workflow is stuck on Temporal's size limits",
            execution_id=execution.id,
            workflow_id=workflow_id,
            error=problem.detail,
        )
        if execution.status.callback.outcome not in TOLD:
            execution = await self.callbacks.answer(execution, by="reconciler")
        await self.launcher.terminate(execution, f"{problem.type}: {problem.detail}")
        return execution.revision != before

    async def _walk(self) -> int:
        """The next page of the walk through the quiet open executions."""
        quiet_since = datetime.now(UTC) - QUIET
        found, self._cursor = await self.store.executions.unreconciled(
            quiet_since, self.batch, self._cursor
        )
        now = time.monotonic()
        self._checked = {k: v for k, v in self._checked.items() if now - v < RECHECK_SECONDS}
        changed = 0
        for execution in found:
            if execution.id in self._checked:
                continue
            after = await self.reconcile(execution)
            if after.revision != execution.revision:
                changed += 1
            else:
                self._checked[execution.id] = now
        return changed

    async def reconcile(self, execution: pb.Execution) -> pb.Execution:
        """Bring one execution's record in line with its Temporal run; the record after."""
        fate = await self.launcher.fate(execution)
        if fate.running:
            return execution
        if not has_ended(execution.status):
            execution = await self._record(execution, fate)
        if has_ended(execution.status) and execution.status.callback.outcome not in TOLD:
            execution = await self.callbacks.answer(execution, by="reconciler")
        return execution

    async def _record(self, execution: pb.Execution, fate: Fate) -> pb.Execution:
        if not fate.exists:
            if execution.status.phase == pb.PENDING:
                return await self._unstarted(execution)
            report = _problem_ending(
                execution.id,
                pb.FAILED,
                problems.Problem.of(
                    problems.RUNTIME,
                    f"its workflow {execution.status.temporal_workflow_id} is gone from Temporal",
                    title="Execution lost",
                ),
            )
        else:
            report = report_of(fate.ending) if fate.ending else _fate_ending(execution, fate)
        recorded = await self.recorder.update(execution.id, lambda status: end(status, report))
        log.warning(
            "execution ended outside its workflow",
            execution_id=execution.id,
            workflow_status=fate.status_name,
            phase=pb.Phase.Name(recorded.status.phase),
            reason=fate.reason or None,
        )
        return recorded

    async def _unstarted(self, execution: pb.Execution) -> pb.Execution:
        created = execution.status.created_at.ToDatetime(UTC)
        if execution.status.cancel_requested:
            report = _problem_ending(
                execution.id,
                pb.CANCELLED,
                problems.Problem.of(
                    problems.CANCELLED, "cancelled before it started", title="Execution cancelled"
                ),
            )
            return await self.recorder.update(execution.id, lambda status: end(status, report))
        if datetime.now(UTC) - created >= START_GRACE:
            log.warning(
                "starting an execution its creation left unstarted", execution_id=execution.id
            )
            document = (
                await document_of(self.store, execution)
                if execution.spec.kind == pb.WORKFLOW_EXECUTION
                else None
            )
            try:
                await self.launcher.start(execution, document)
            except OverLimit as exc:
                log.error(
                    "execution refused for its size", execution_id=execution.id, error=str(exc)
                )
                report = _problem_ending(execution.id, pb.FAILED, problems.too_large(str(exc)))
                return await self.recorder.update(execution.id, lambda status: end(status, report))
        return execution


def _execution_ids(workflow_ids: list[str]) -> list[str]:
    """The executions whose workflows these are (`agent-execution/aex-…`); others' ids,
    which the platform did not make, are left out."""
    found = []
    for workflow_id in workflow_ids:
        execution_id = workflow_id.rpartition("/")[2]
        kind = kind_of_id(execution_id)
        if kind and temporal_workflow_id(kind, execution_id) == workflow_id:
            found.append(execution_id)
    return found


def _problem_ending(
    execution_id: str, phase: pb.Phase.ValueType, problem: problems.Problem
) -> pb.EndingReport:
    report = pb.EndingReport(id=execution_id, phase=phase)
    report.error.CopyFrom(pb.ExecutionError(**problem.to_dict()))
    return report


_STOPPED = {
    "TERMINATED": (pb.CANCELLED, problems.CANCELLED, "Execution terminated", "was terminated"),
    "CANCELED": (pb.CANCELLED, problems.CANCELLED, "Execution cancelled", "was cancelled"),
    "TIMED_OUT": (pb.FAILED, problems.TIMEOUT, "Execution timed out", "timed out in Temporal"),
}
"""How a run stopped without an ending of its own -> the phase, problem and words recorded."""


def _fate_ending(execution: pb.Execution, fate: Fate) -> pb.EndingReport:
    """The end of a run that left no ending of its own, from how Temporal saw it end."""
    workflow_id = execution.status.temporal_workflow_id
    if fate.status_name in _STOPPED:
        phase, kind, title, how = _STOPPED[fate.status_name]
        detail = f"its workflow {workflow_id} {how}"
        if fate.status_name == "TERMINATED":
            detail += f": {fate.reason or 'no reason given'}"
        return _problem_ending(execution.id, phase, problems.Problem.of(kind, detail, title=title))
    problem = fate.problem or problems.Problem.of(
        problems.RUNTIME,
        f"its workflow {workflow_id} ended {fate.status_name.lower()} without recording an end",
        title="Execution failed",
    )
    return _problem_ending(execution.id, pb.FAILED, problem)
