"""The handshake survives crashes of each part of the platform, each a real OS process.

Every test crashes one part (SIGKILL, or a restart of Temporal or PostgreSQL itself)
while agent calls are pending on their tokens, brings it back, and checks that nothing
was lost: each call made exactly one AgentExecution, each caller got its own agent's
output, and each callback was delivered. Each runs on SQLite and on PostgreSQL (see
`database_url`). Waits are bounded; the longest ones are marked LONG WAIT.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.local.embedded import EmbeddedTemporal, free_port
from tests.faults.calls import (
    agents_done,
    assert_each_call_completed_once,
    start_calls,
    working_calls,
)
from tests.faults.matrix import PostgresFault
from tests.faults.processes import ProcessPlatform, started
from tests.handshake.helpers import script
from tests.support.postgres import PrivateCluster

pytestmark = pytest.mark.timeout(120)

RETRIED = "the runner was lost; attempt 2 starts the agent over"


OFFLINE_MODEL = {"model": "test", "tools": ["write_todos"]}


async def test_a_killed_runner_is_replaced_and_the_agent_starts_over(
    processes: ProcessPlatform,
) -> None:
    """A dead runner stops heartbeating; its run goes to a live runner, from the start."""
    platform = processes
    [workflow_id] = await start_calls(platform, [script(sleep=6, steps=3, output="survived")])
    await working_calls(platform, [workflow_id])
    platform.runner.kill()
    await platform.restart_worker(platform.runner)
    # LONG WAIT: the run is retried only after the runner heartbeat timeout (10 s)
    # passes, and then the agent runs its 6 s again.
    [call] = await assert_each_call_completed_once(
        platform, [workflow_id], ["survived"], seconds=45
    )
    assert call.status.phase == pb.COMPLETED
    assert call.status.output == "survived"
    system = [m.content for m in call.status.messages if m.role == "system"]
    assert system == [RETRIED]
    steps = [m.content for m in call.status.messages if m.content == "step 1 of 3"]
    assert len(steps) == 2, "the second attempt must start the agent from the beginning"


async def test_a_killed_runner_restarts_a_model_agent_keeping_its_record(
    processes: ProcessPlatform,
) -> None:
    """A model agent's second attempt starts the model loop over: the question is kept
    once, the restart is said, and the usage of both attempts is counted."""
    platform = processes
    message = script(todos=["look", "answer"], steps=3, sleep=6, output="survived")
    [workflow_id] = await start_calls(platform, [message], agent=OFFLINE_MODEL)
    await working_calls(platform, [workflow_id])
    platform.runner.kill()
    await platform.restart_worker(platform.runner)
    # LONG WAIT: as above, the heartbeat timeout (10 s) passes before the retry.
    [call] = await assert_each_call_completed_once(
        platform, [workflow_id], ["survived"], seconds=45
    )
    roles = [m.role for m in call.status.messages]
    assert roles.count("user") == 1, "the question is recorded once"
    assert [m.content for m in call.status.messages if m.role == "system"] == [RETRIED]
    restart = roles.index("system")
    before = [m.content for m in call.status.messages[:restart]]
    after = [m.content for m in call.status.messages[restart:]]
    assert "step 1 of 3" in before and "step 1 of 3" in after, "the loop starts over"
    one_run = 6  # todos, 3 steps, all done, the answer: the offline model's requests
    assert call.status.usage.requests > one_run, "the lost attempt's usage still counts"
    assert [(t.content, t.status) for t in call.status.todos] == [
        ("look", "completed"),
        ("answer", "completed"),
    ]


async def test_calls_survive_a_killed_api_server(processes: ProcessPlatform) -> None:
    """The store holds the callbacks: an API back on the same database delivers them."""
    platform = processes
    outputs = [f"answer {n}" for n in range(3)]
    workflow_ids = await start_calls(
        platform, [script(steps=1, sleep=5, output=o) for o in outputs]
    )
    await working_calls(platform, workflow_ids)
    platform.api.kill()
    await platform.restart_api()  # same port, same data dir and database
    await assert_each_call_completed_once(platform, workflow_ids, outputs, seconds=40)


async def test_calls_survive_an_api_outage_as_their_agents_finish(
    processes: ProcessPlatform,
) -> None:
    """The agents end while the API is down: reporting their results must wait for it.

    An outage of the API is a fault of the platform, not of the agent, so it must not
    fail the agent's execution or its caller.
    """
    platform = processes
    outputs = [f"answer {n}" for n in range(3)]
    workflow_ids = await start_calls(
        platform, [script(steps=1, sleep=2, output=o) for o in outputs]
    )
    await working_calls(platform, workflow_ids)
    platform.api.kill()
    # LONG WAIT: the API stays down past the end of the agents' 2 s of work.
    await asyncio.sleep(4)
    await platform.restart_api()
    await assert_each_call_completed_once(platform, workflow_ids, outputs, seconds=40)


async def test_calls_survive_a_restart_of_temporal(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str | None
) -> None:
    """Pending tokens and running agents outlive Temporal going down and coming back.

    A Temporal of its own, since the session's is shared by every other test.
    """
    temporal = EmbeddedTemporal(
        tmp_path / "temporal", port=free_port(), ui_port=None, startup_timeout=60
    )
    await temporal.start()
    try:
        parts = started(request, temporal.address, tmp_path / "platform", database_url=database_url)
        parts.platform.other_logs.append((f"temporal ({temporal.log_path})", temporal.log_tail))
        async with parts as platform:
            outputs = [f"answer {n}" for n in range(3)]
            workflow_ids = await start_calls(
                platform, [script(steps=1, sleep=3, output=o) for o in outputs]
            )
            call_ids = await working_calls(platform, workflow_ids)
            await temporal.stop()
            # Temporal stays down until the agents have finished (the API is still up to
            # hear their results), so the runner must report its completion to a
            # Temporal that comes back; well within the runner's 10 s heartbeat timeout.
            await agents_done(platform, call_ids, outputs, seconds=10)
            await temporal.start()  # same port, same data dir
            # LONG WAIT: workers and the API reconnect with backoff after Temporal returns.
            await assert_each_call_completed_once(platform, workflow_ids, outputs, seconds=60)
    finally:
        await temporal.stop()


async def test_calls_survive_a_killed_engine_and_agents_worker(
    processes: ProcessPlatform,
) -> None:
    """Workflow state lives in Temporal: new engine and agents workers carry on from it."""
    platform = processes
    outputs = [f"answer {n}" for n in range(3)]
    workflow_ids = await start_calls(
        platform, [script(steps=1, sleep=4, output=o) for o in outputs]
    )
    call_ids = await working_calls(platform, workflow_ids)
    platform.engine.kill()
    platform.agents.kill()
    # The runner is still up: the agents finish while no worker can record it or call back.
    await agents_done(platform, call_ids, outputs, seconds=20)
    await platform.restart_worker(platform.engine)
    await platform.restart_worker(platform.agents)
    await assert_each_call_completed_once(platform, workflow_ids, outputs, seconds=40)


@pytest.mark.postgres
@pytest.mark.timeout(240)
async def test_calls_survive_a_crash_and_restart_of_postgresql(
    request: pytest.FixtureRequest, temporal_server: EmbeddedTemporal, tmp_path: Path
) -> None:
    """The store's server killed with SIGKILL while agents work, down a few seconds, then
    started again (crash recovery): the API's pool, its change listener and its leadership
    reconnect, and every call ends once.

    A PostgreSQL of its own, since the shared server serves every other test."""
    cluster = await asyncio.to_thread(PrivateCluster)
    fault = PostgresFault(cluster)
    try:
        await fault.up()
        parts = started(request, temporal_server.address, tmp_path, database_url=cluster.url)
        parts.platform.other_logs.append((f"postgresql ({cluster.log})", cluster.log_tail))
        async with parts as platform:
            outputs = [f"answer {n}" for n in range(3)]
            workflow_ids = await start_calls(
                platform, [script(steps=2, sleep=4, output=o) for o in outputs]
            )
            await working_calls(platform, workflow_ids)
            await fault.kill()
            # LONG WAIT: the store stays down while the agents finish their work.
            await asyncio.sleep(5)
            await fault.up()
            await assert_each_call_completed_once(platform, workflow_ids, outputs, seconds=90)
    finally:
        await asyncio.to_thread(cluster.remove)
