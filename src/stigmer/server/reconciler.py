"""Records follow Temporal: an execution whose run ended is recorded as ended, whatever ended it.

An execution's own workflow records its end and tells its caller. When it cannot — it was
terminated or reset from outside the platform, timed out, or gave up recording because
the API stayed unreachable for longer than its caller could wait — the record would stay
open forever. The reconciler sweeps the executions that have been quiet for a while,
asks Temporal how their run stands, and records the end Temporal knows (the ending the
workflow returned or failed with, or the reason it stopped), then tells the caller.
A PENDING execution whose workflow was never started (the API died between storing it
and starting it) is started, so a call is never lost; one cancelled meanwhile is ended.
Only the leading API replica sweeps (see `Leadership`); every write is optimistic, so
two replicas that both believe they lead for a moment record nothing twice.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import structlog

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.background import Background
from stigmer.config import Settings
from stigmer.contract import problems
from stigmer.handshake.ending import report_of
from stigmer.resources.executions import TOLD, end, has_ended
from stigmer.server.callbacks import Callbacks
from stigmer.server.definitions import document_of
from stigmer.server.launcher import Fate, Launcher
from stigmer.server.recorder import Recorder
from stigmer.store.leadership import Leadership
from stigmer.store.store import Store
from stigmer.temporal import TemporalUnreachableError

log = structlog.get_logger("stigmer.server")

QUIET = timedelta(seconds=10)
"""An execution changed this recently is left alone: its workflow is evidently at work."""
START_GRACE = timedelta(seconds=30)
"""A PENDING execution without a workflow this old was stored by a creation that died."""
BATCH = 100
RECHECK_SECONDS = 60.0
"""A running execution found running is asked about again no sooner than this."""


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
                continue
            try:
                await self.sweep()
            except (TemporalUnreachableError, OSError) as exc:
                log.warning("reconciler skipped a sweep", error=str(exc))
            except Exception:
                log.exception("reconciler sweep failed")

    async def sweep(self) -> int:
        """One pass over the quiet open executions and unanswered callers; how many changed."""
        quiet_since = datetime.now(UTC) - QUIET
        found = await self.store.executions.unreconciled(quiet_since, BATCH)
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
            await self.launcher.start(execution, document)
        return execution


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
