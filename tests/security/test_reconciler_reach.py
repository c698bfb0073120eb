"""Finding 4, replayed with real processes: with 105 long `wait` runs open (more than the
reconciler once read per sweep), a run terminated through the Temporal CLI is still
recorded within 60 s, and so is a run whose workflow was deleted from Temporal (which
visibility cannot show: the reconciler's walk through every open execution finds it).
A run whose workflow tasks keep failing on Temporal's payload limit is stopped too."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import Client
from stigmer.contract import problems
from stigmer.local.embedded import EmbeddedTemporal
from tests.handshake.helpers import document
from tests.security.platforms import ServedPlatform, started, tuned_platform

pytestmark = [pytest.mark.temporal, pytest.mark.timeout(600)]

OPEN_WAITS = 105
RECORDED_WITHIN = 60.0
STUCK_STOPPED_WITHIN = 120.0
THREE_MIB = '${ "x" * 3145728 }'
TEMPORAL_CLI = str(Path(sys.executable).parent / "temporal")
LONG_WAIT = document({"pause": {"wait": {"minutes": 30}}}, name="long-wait")


@pytest.fixture(scope="module")
async def crowded(
    temporal_server: EmbeddedTemporal, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServedPlatform]:
    """A platform of its own (its own queue prefix) with `OPEN_WAITS` runs waiting, its
    reconciler sweeping every second and walking 20 executions a sweep."""
    platform = tuned_platform(
        temporal_server.address,
        tmp_path_factory.mktemp("reconciled"),
        "reconciled",
        STIGMER_RECONCILE_INTERVAL="PT1S",
        STIGMER_RECONCILE_BATCH="20",
    )
    await started(platform)
    try:
        async with platform.client() as client:
            for first in range(0, OPEN_WAITS, 15):
                await asyncio.gather(
                    *(
                        client.run_workflow(document=LONG_WAIT)
                        for _ in range(min(15, OPEN_WAITS - first))
                    )
                )
            await until_open(client, OPEN_WAITS)
        yield platform
    finally:
        await platform.stop()


async def until_open(client: Client, count: int) -> None:
    """Until `count` runs are IN_PROGRESS (bounded)."""
    for _ in range(240):
        page = await client.list_executions(phases=["IN_PROGRESS"], page_size=500)
        if len(page.executions) >= count:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"fewer than {count} runs in progress after 120 s")


async def one_more(client: Client) -> pb.Execution:
    """A run beyond the crowd: the newest of all, in progress."""
    created = await client.run_workflow(document=LONG_WAIT)
    for _ in range(120):
        found = await client.execution(created.execution.id)
        if found.status.phase == pb.IN_PROGRESS:
            return found
        await asyncio.sleep(0.5)
    raise AssertionError(f"{created.execution.id} never started")


def temporal_cli(temporal: EmbeddedTemporal, *args: str) -> None:
    done = subprocess.run(
        [TEMPORAL_CLI, *args, "--address", temporal.address],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"temporal {' '.join(args)}: {done.stdout}{done.stderr}"


async def ended_within(client: Client, execution_id: str, seconds: float) -> pb.Execution:
    """The execution once recorded ended, failing if that takes longer than `seconds`."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        found = await client.execution(execution_id)
        if found.status.phase in (pb.COMPLETED, pb.FAILED, pb.CANCELLED):
            print(f"\n{execution_id} recorded ended after {time.monotonic() - start:.1f}s")
            return found
        await asyncio.sleep(0.5)
    raise AssertionError(f"{execution_id} still open {seconds:g}s after its run ended")


async def test_a_run_terminated_through_temporal_is_recorded_with_105_others_open(
    crowded: ServedPlatform, temporal_server: EmbeddedTemporal
) -> None:
    async with crowded.client() as client:
        run = await one_more(client)
        temporal_cli(
            temporal_server,
            "workflow",
            "terminate",
            "--workflow-id",
            run.status.temporal_workflow_id,
            "--reason",
            "stopped from the Temporal CLI",
        )
        done = await ended_within(client, run.id, RECORDED_WITHIN)
        open_now = await client.list_executions(phases=["IN_PROGRESS"], page_size=500)
    assert done.status.phase == pb.CANCELLED
    assert "terminated: stopped from the Temporal CLI" in done.status.error.detail
    assert len(open_now.executions) >= OPEN_WAITS, "the crowd was open all along"


async def test_a_run_deleted_from_temporal_is_found_by_the_walk(
    crowded: ServedPlatform, temporal_server: EmbeddedTemporal
) -> None:
    async with crowded.client() as client:
        run = await one_more(client)
        temporal_cli(
            temporal_server,
            "workflow",
            "delete",
            "--yes",
            "--workflow-id",
            run.status.temporal_workflow_id,
        )
        done = await ended_within(client, run.id, RECORDED_WITHIN)
    assert done.status.phase == pb.FAILED
    assert "gone from Temporal" in done.status.error.detail


async def test_a_run_stuck_on_temporals_payload_limit_is_failed_and_stopped(
    crowded: ServedPlatform,
) -> None:
    """An activity input over Temporal's limit fails each workflow task before it is sent
    (the SDK's check), so the run can never go on; once Temporal reports it (after five
    failed tasks, about 55 s), the reconciler records it FAILED `too-large` and stops it."""
    send = {
        "call": "http",
        "with": {"method": "post", "endpoint": "http://127.0.0.1:9/", "body": THREE_MIB},
    }
    async with crowded.client() as client:
        run = await client.run_workflow(document=document({"send": send}, name="stuck"))
        done = await ended_within(client, run.execution.id, STUCK_STOPPED_WITHIN)
    assert done.status.phase == pb.FAILED
    assert done.status.error.type == problems.TOO_LARGE
    assert "Temporal's payload limit" in done.status.error.detail
