"""Keeping a Workflow definition's `schedule` in Temporal, on apply and on delete.

The schedule is replaced as a whole whenever the definition changes (remove, then
create), so what runs is always what the current version says. API replicas take turns
per workflow (`exclusive`): two applies of one workflow through different replicas
never interleave their removes and creates, and the definition stored last is the one
whose schedule runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from stigmer.config import Settings, task_queue
from stigmer.contract.inputs import ScheduledRun
from stigmer.contract.names import SCHEDULED_RUN_WORKFLOW
from stigmer.engine.durations import parse_duration
from stigmer.server.launcher import Launcher
from stigmer.store.database import Database


class Schedules:
    def __init__(self, launcher: Launcher, settings: Settings, database: Database) -> None:
        self.launcher = launcher
        self.database = database
        self.prefix = settings.queue_prefix
        self.queue = task_queue("engine", settings.queue_prefix)

    def schedule_id(self, workflow: str) -> str:
        return f"{self.prefix}schedule/{workflow}"

    def loop_id(self, workflow: str) -> str:
        return f"{self.prefix}scheduled-run/{workflow}"

    @contextlib.asynccontextmanager
    async def exclusive(self, workflow: str) -> AsyncIterator[None]:
        """Hold while syncing and storing `workflow`: one replica at a time changes it."""
        async with self.database.exclusive(self.schedule_id(workflow)):
            yield

    async def sync(
        self, workflow: str, document: dict[str, Any] | None, previous: dict[str, Any] | None
    ) -> None:
        """Make Temporal run `workflow` as `document.schedule` says (None: not at all)."""
        wanted = (document or {}).get("schedule")
        if not wanted and not (previous or {}).get("schedule"):
            return  # nothing scheduled before or now: Temporal need not be asked
        client = await self.launcher.client()
        await self._remove(client, workflow)
        if wanted:
            await self._create(client, workflow, wanted)

    async def _remove(self, client: Client, workflow: str) -> None:
        await _ignoring_missing(client.get_schedule_handle(self.schedule_id(workflow)).delete())
        loop = client.get_workflow_handle(self.loop_id(workflow))
        await _ignoring_missing(loop.terminate("its schedule changed"))

    async def _create(self, client: Client, workflow: str, schedule: dict[str, Any]) -> None:
        if "after" in schedule or "on" in schedule:
            after = (
                parse_duration(schedule["after"]).total_seconds() if "after" in schedule else None
            )
            await client.start_workflow(
                SCHEDULED_RUN_WORKFLOW,
                ScheduledRun(workflow, after, schedule.get("on")),
                id=self.loop_id(workflow),
                task_queue=self.queue,
                id_conflict_policy=WorkflowIDConflictPolicy.TERMINATE_EXISTING,
            )
            return
        spec = ScheduleSpec()
        if "every" in schedule:
            spec = ScheduleSpec(
                intervals=[ScheduleIntervalSpec(every=parse_duration(schedule["every"]))]
            )
        elif "cron" in schedule:
            spec = ScheduleSpec(cron_expressions=[schedule["cron"]])
        await client.create_schedule(
            self.schedule_id(workflow),
            Schedule(
                action=ScheduleActionStartWorkflow(
                    SCHEDULED_RUN_WORKFLOW,
                    ScheduledRun(workflow),
                    id=self.loop_id(workflow),
                    task_queue=self.queue,
                ),
                spec=spec,
                # A run still going when the next is due: skip, never pile up.
                policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
            ),
        )


async def _ignoring_missing(call: Awaitable[Any]) -> None:
    """Await `call`; NOT_FOUND means there was nothing to remove."""
    try:
        await call
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
