"""A Workflow's `schedule` runs it once applied (every, cron, after, on) and stops with it."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.service import RPCError

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.server.schedules import Schedules
from stigmer.temporal import connect_temporal
from tests.conftest import Platform
from tests.handshake.helpers import document, eventually, output_of


def scheduled(name: str, schedule: dict[str, Any], *tasks: dict[str, Any]) -> dict[str, Any]:
    doc = document(*(tasks or ({"note": {"set": {"ran": True}}},)), name=name)
    doc["schedule"] = schedule
    return doc


async def runs_of(platform: Platform, name: str) -> list[pb.Execution]:
    found = await platform.client.list_executions(kind="WORKFLOW_EXECUTION", target=name)
    return list(found.executions)


async def finished_runs(platform: Platform, name: str, at_least: int) -> list[pb.Execution]:
    async def enough() -> bool:
        runs = await runs_of(platform, name)
        return sum(r.status.phase == pb.COMPLETED for r in runs) >= at_least

    await eventually(enough, seconds=40)
    return await runs_of(platform, name)


async def test_every_runs_until_the_schedule_is_removed(platform: Platform) -> None:
    client = platform.client
    await client.apply("workflow", "ticker", scheduled("ticker", {"every": {"seconds": 2}}))
    runs = await finished_runs(platform, "ticker", at_least=2)
    assert all(output_of(r) == {"ran": True} for r in runs if r.status.phase == pb.COMPLETED)
    schedules = Schedules(platform.api.launcher, platform.settings, platform.api.store.db)
    temporal = await connect_temporal(platform.settings)
    handle = temporal.get_schedule_handle(schedules.schedule_id("ticker"))
    assert (await handle.describe()).schedule.spec.intervals

    await client.apply(
        "workflow", "ticker", document({"note": {"set": {"ran": True}}}, name="ticker")
    )
    with pytest.raises(RPCError):
        await handle.describe()


async def test_cron_is_a_temporal_schedule_and_delete_removes_it(platform: Platform) -> None:
    client = platform.client
    await client.apply("workflow", "nightly", scheduled("nightly", {"cron": "0 0 * * *"}))
    schedules = Schedules(platform.api.launcher, platform.settings, platform.api.store.db)
    temporal = await connect_temporal(platform.settings)
    handle = temporal.get_schedule_handle(schedules.schedule_id("nightly"))
    spec = (await handle.describe()).schedule.spec
    # Temporal keeps a cron expression as the calendar it stands for: midnight, daily.
    assert [(c.hour[0].start, c.minute[0].start) for c in spec.calendars] == [(0, 0)]
    await client.delete("workflow", "nightly")
    with pytest.raises(RPCError):
        await handle.describe()


async def test_after_runs_again_once_the_last_run_ended(platform: Platform) -> None:
    client = platform.client
    await client.apply("workflow", "again", scheduled("again", {"after": {"seconds": 1}}))
    runs = await finished_runs(platform, "again", at_least=2)
    ended = sorted(
        r.status.finished_at.ToDatetime() for r in runs if r.status.HasField("finished_at")
    )
    started = sorted(r.status.created_at.ToDatetime() for r in runs)
    assert started[1] >= ended[0]  # one at a time
    await client.delete("workflow", "again")


async def test_on_runs_with_the_events_as_input(platform: Platform) -> None:
    client = platform.client
    schedule = {"on": {"one": {"with": {"type": "patient.heartbeat.low"}}}}
    alert = {"alert": {"set": {"patient": "${ $workflow.input[0].data.patient }"}}}
    await client.apply("workflow", "nurse", scheduled("nurse", schedule, alert))
    schedules = Schedules(platform.api.launcher, platform.settings, platform.api.store.db)
    store = platform.api.store
    assert store is not None

    async def subscribed() -> bool:
        return schedules.loop_id("nurse") in await store.subscriptions.workflows()

    await eventually(subscribed)
    event = {
        "type": "patient.heartbeat.low",
        "source": "https://ward.example",
        "data": {"patient": "ada"},
    }
    published = await client.publish_event(event)
    assert list(published.delivered_to) == [schedules.loop_id("nurse")]
    runs = await finished_runs(platform, "nurse", at_least=1)
    assert output_of(runs[0]) == {"patient": "ada"}
    await client.delete("workflow", "nurse")
