"""Pending calls hold no worker slot: 200 agent calls wait at once behind 5 engine slots,
on workers that keep only 20 runs in memory, so most runs are replayed to end."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.contract.names import CALL_AGENT_ACTIVITY
from stigmer.local.embedded import EmbeddedTemporal
from stigmer.resources.executions import temporal_workflow_id
from stigmer.temporal import connect_temporal
from tests.conftest import running_platform
from tests.handshake.helpers import SCRIPTED, agent_task, document, eventually, script

CALLS = 200
ENGINE_SLOTS = 5
CACHED = 20


@pytest.mark.timeout(420)
async def test_200_calls_pend_at_once_with_5_engine_slots(
    temporal_server: EmbeddedTemporal, tmp_path: Path
) -> None:
    async with running_platform(
        temporal_server,
        tmp_path,
        engine_max_activities=ENGINE_SLOTS,
        workflow_cache=CACHED,
        workflow_pollers=4,
    ) as platform:
        client = platform.client
        await client.apply("agent", "scripted", SCRIPTED)
        release = tmp_path / "release"
        doc = document(agent_task("ask", script(until=str(release), output="done")))
        limit = asyncio.Semaphore(20)

        async def start(n: int) -> str:
            async with limit:
                return (await client.run_workflow(document=doc, input={"n": n})).execution.id

        runs = await asyncio.gather(*(start(n) for n in range(CALLS)))
        temporal = await connect_temporal(platform.settings)

        async def pending_calls(run_id: str) -> int:
            async with limit:
                handle = temporal.get_workflow_handle(
                    temporal_workflow_id(pb.WORKFLOW_EXECUTION, run_id)
                )
                described = await handle.describe()
            return sum(
                1
                for activity in described.raw_description.pending_activities
                if activity.activity_type.name == CALL_AGENT_ACTIVITY
            )

        peak = 0

        async def all_pending() -> bool:
            nonlocal peak
            counts = await asyncio.gather(*(pending_calls(run_id) for run_id in runs))
            peak = max(peak, sum(counts))
            return sum(counts) == CALLS

        await eventually(all_pending, seconds=120, every=1)
        assert peak == CALLS
        release.touch()  # only now may the agents end
        # The engine worker never had more than 5 activity slots, yet all 200 wait.
        engine = platform.workers.workers[0].config()
        assert engine.get("max_concurrent_activities") == ENGINE_SLOTS
        assert engine.get("max_cached_workflows") == CACHED

        finished = await asyncio.gather(*(client.wait(run_id) for run_id in runs))
        assert [run.status.phase for run in finished] == [pb.COMPLETED] * CALLS
        outcomes: set[int] = set()

        async def settled() -> bool:
            # The delivery is recorded after Temporal answers, so it may trail the
            # caller's completion; a run dropped from the cache records it when replayed.
            nonlocal outcomes
            agents = await client.list_executions(kind="AGENT_EXECUTION", page_size=1000)
            assert len(agents.executions) == CALLS
            outcomes = {e.status.callback.outcome for e in agents.executions}
            return pb.CALLBACK_WAITING not in outcomes

        await eventually(settled, seconds=60, every=1)
        assert outcomes == {pb.CALLBACK_DELIVERED}
