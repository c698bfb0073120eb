"""The API's periodic look at stored state: the gauges, and the stuck-call check.

It runs in the leading API replica only (one place, whatever the number of replicas and
workers), every `collect_interval`; a replica that does not lead exports none of these
gauges, so a sum over replicas counts each execution once. Every known label value (each
kind and phase, each applied target) is exported, at 0 when nothing matches: an idle
platform shows 0, not "no data". Each stuck execution is logged once, when first found.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import structlog
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client as TemporalClient
from temporalio.service import RPCError

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.background import Background
from stigmer.config import QUEUE_KINDS, Settings, task_queue
from stigmer.errors import PlatformError
from stigmer.observability import metrics
from stigmer.observability.stuck import REASONS, reason_label
from stigmer.server.stuck import Stuck, find_stuck
from stigmer.store.leadership import Leadership
from stigmer.store.store import Store

log = structlog.get_logger("stigmer.observability")

POLLER_WINDOW = timedelta(minutes=2)
"""A worker long-polls for about a minute at a time; one unseen for two is gone."""
QUEUE_TYPES = {
    "workflow": TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    "activity": TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
}
SERVED = {"engine": ("workflow", "activity"), "agents": ("workflow", "activity")}
"""What each queue's workers poll for; the runner queue has activities only."""
KINDS = ("agent", "workflow")
INLINE = "(inline)"
"""The target label of a workflow run from a document rather than an applied Workflow."""
STORED_STATE = (
    metrics.PENDING_CALLS,
    metrics.OLDEST_PENDING_AGE,
    metrics.EXECUTIONS,
    metrics.STUCK,
    metrics.QUEUE_POLLERS,
    metrics.COLLECTED_AT,
)


class StateCollector:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        leadership: Leadership,
        temporal: Callable[[], Awaitable[TemporalClient]] | None = None,
    ) -> None:
        self.store = store
        self.leadership = leadership
        self.settings = settings
        self.temporal = temporal
        self.reported: set[tuple[str, pb.StuckReason.ValueType]] = set()
        self._background = Background("state-collector")

    def start(self) -> None:
        self._background.start(self._loop())

    async def stop(self) -> None:
        await self._background.stop()

    async def _loop(self) -> None:
        while True:
            leads = self.leadership.leads
            metrics.LEADS.set(1 if leads else 0)
            try:
                if leads:
                    await self.collect()
                else:
                    self.forget()
            except Exception:
                log.exception("collecting state failed")
            await asyncio.sleep(self.settings.collect_interval.total_seconds())

    def forget(self) -> None:
        """Export no stored-state gauges: another replica leads and exports them."""
        for gauge in STORED_STATE:
            gauge.clear()
        self.reported = set()

    async def collect(self) -> None:
        """Read everything first, then set the gauges at once: a scrape sees one moment."""
        now = datetime.now(UTC)
        counts = await self.store.executions.count_by_phase()
        open_ = await self.store.executions.open_by_target()
        applied = await self.store.definitions.names()
        stuck = await find_stuck(self.store, now, self.settings.stuck_after)
        pollers: dict[tuple[str, str], int] | None = None
        if self.temporal is not None:
            try:
                pollers = await self._pollers(await self.temporal(), now)
            except (PlatformError, RPCError) as exc:
                log.warning("task queue pollers unknown", error=str(exc))
        self._set_executions(now, counts, open_, applied)
        for reason in REASONS:
            metrics.STUCK.labels(reason_label(reason)).set(
                sum(1 for item in stuck if item.reason == reason)
            )
        for (queue, type_name), count in (pollers or {}).items():
            metrics.QUEUE_POLLERS.labels(queue, type_name).set(count)
        metrics.COLLECTED_AT.set(now.timestamp())
        self._report(stuck)

    def _set_executions(
        self,
        now: datetime,
        counts: list[tuple[str, str, int]],
        open_: list[tuple[str, str, int, datetime]],
        applied: list[tuple[str, str]],
    ) -> None:
        metrics.EXECUTIONS.clear()
        for kind in KINDS:
            for phase in pb.Phase.keys()[1:]:
                metrics.EXECUTIONS.labels(kind, phase).set(0)
        for kind, phase, count in counts:
            metrics.EXECUTIONS.labels(_kind(kind), phase).set(count)
        pending = {(definition_kind.lower(), name): 0 for definition_kind, name in applied}
        pending[("workflow", INLINE)] = 0
        oldest: dict[str, datetime] = {}
        for kind, target, count, created in open_:
            label = _kind(kind)
            pending[(label, target or INLINE)] = count
            oldest[label] = min(created, oldest.get(label, created))
        metrics.PENDING_CALLS.clear()
        for (label, target), count in pending.items():
            metrics.PENDING_CALLS.labels(label, target).set(count)
        for label in KINDS:
            age = (now - oldest[label]).total_seconds() if label in oldest else 0.0
            metrics.OLDEST_PENDING_AGE.labels(label).set(max(age, 0.0))

    def _report(self, stuck: list[Stuck]) -> None:
        """Log each stuck execution once, when it is first found."""
        current = {(item.execution.id, item.reason) for item in stuck}
        for item in stuck:
            if (item.execution.id, item.reason) in self.reported:
                continue
            callback = item.execution.status.callback
            log.warning(
                "execution stuck",
                execution_id=item.execution.id,
                reason=reason_label(item.reason),
                age_seconds=round(item.age.total_seconds()),
                phase=pb.Phase.Name(item.execution.status.phase),
                workflow_id=callback.workflow_id or None,
                activity_id=callback.activity_id or None,
                token_preview=callback.token_preview or None,
            )
        self.reported = current

    async def _pollers(self, temporal: TemporalClient, now: datetime) -> dict[tuple[str, str], int]:
        found: dict[tuple[str, str], int] = {}
        for kind in QUEUE_KINDS:
            name = task_queue(kind, self.settings.queue_prefix)
            for type_name in SERVED.get(kind, ("activity",)):
                described = await temporal.workflow_service.describe_task_queue(
                    DescribeTaskQueueRequest(
                        namespace=self.settings.temporal_namespace,
                        task_queue=TaskQueue(name=name),
                        task_queue_type=QUEUE_TYPES[type_name],
                    ),
                    timeout=timedelta(seconds=5),
                )
                recent = [
                    poller
                    for poller in described.pollers
                    if now - poller.last_access_time.ToDatetime(UTC) <= POLLER_WINDOW
                ]
                found[(name, type_name)] = len(recent)
        return found


def _kind(stored: str) -> str:
    return metrics.kind_label(pb.ExecutionKind.Value(stored))
