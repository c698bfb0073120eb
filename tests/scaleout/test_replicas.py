"""Two API replicas on one PostgreSQL, two workers serving every queue: killing a replica and
a worker with SIGKILL while calls are in flight loses nothing, duplicates nothing, and a
watch on one replica sees an end written through the other within a second.

Real processes, a Temporal dev server of its own and a private database (see `Topology`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from stigmer.local.embedded import EmbeddedTemporal, free_port
from tests.faults.calls import assert_each_call_completed_once, start_calls, working_calls
from tests.faults.matrix import HEARTBEAT_TIMEOUT
from tests.faults.processes import Through
from tests.handshake.helpers import SCRIPTED, agent_task, document, script
from tests.scaleout.topology import CLI, Topology
from tests.support.postgres import private_database

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(360)]

CALLS = 8
"""Calls in flight when the replica and the worker die, half through each replica."""
WATCH_GAP = 1.0
"""Seconds within which a watch on one replica sees an end written through another."""
LEADS = "this replica leads"


@pytest.fixture
async def topology(tmp_path: Path) -> AsyncIterator[Topology]:
    async with private_database() as url:
        started = Topology(tmp_path, url)
        try:
            with showing_logs(started):
                await started.start()
            yield started
        finally:
            await started.close()


@contextlib.contextmanager
def showing_logs(topology: Topology) -> Iterator[None]:
    """A failure inside carries the tails of every process log."""
    try:
        yield
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{topology.logs()}") from exc


async def test_killing_a_replica_and_a_worker_mid_call_loses_nothing(
    topology: Topology, tmp_path: Path
) -> None:
    a, b = topology.clients
    with showing_logs(topology):
        await a.apply("agent", "scripted", SCRIPTED)
        # One idempotency key sent through both replicas at once makes one execution.
        key = f"once-{uuid.uuid4().hex}"
        once = document(agent_task("ask", script(output="once")))
        first, second = await asyncio.gather(
            a.run_workflow(document=once, idempotency_key=key),
            b.run_workflow(document=once, idempotency_key=key),
        )
        assert first.execution.id == second.execution.id
        assert sorted([first.created, second.created]) == [False, True]

        outputs = [f"call {n}" for n in range(CALLS)]
        workflow_ids = []
        for n, output in enumerate(outputs):
            through = Through(topology.clients[n % 2])
            message = script(steps=2, sleep=6, output=output)
            [workflow_id] = await start_calls(
                through, [message], heartbeatTimeout=HEARTBEAT_TIMEOUT
            )
            workflow_ids.append(workflow_id)
        await working_calls(Through(b), workflow_ids)

        # The leading replica dies, and the worker given the other replica first: the
        # surviving worker must fail over, and the surviving replica take the lead.
        leader = await leading(topology)
        survivor = 1 - leader
        topology.replicas[leader].kill()
        topology.workers[survivor].kill()
        killed = time.monotonic()
        await topology.replicas[survivor].wait_for_line(LEADS, seconds=30)
        print(f"\nreplica {survivor} took the lead {time.monotonic() - killed:.1f}s after the kill")

        alive = topology.clients[survivor]
        await assert_each_call_completed_once(
            Through(alive),
            [first.execution.id, *workflow_ids],
            ["once", *outputs],
            seconds=150,
        )
        workflows = await alive.list_executions(kind="WORKFLOW_EXECUTION", page_size=1000)
        assert len(workflows.executions) == CALLS + 1, "a workflow execution was duplicated"

        # A watch held on the surviving replica sees an end written through the other one.
        topology.replicas[leader].start()
        await topology.answering(topology.clients[leader], topology.replicas[leader])
        gap = await watch_gap(topology, tmp_path / "held", writer=leader, watcher=survivor)
        print(
            f"watch on replica {survivor} saw the end written through replica {leader} "
            f"after {gap:.3f}s"
        )
        assert gap < WATCH_GAP


async def leading(topology: Topology) -> int:
    """The index of the replica that logged taking the lead."""
    for _ in range(150):
        for index, replica in enumerate(topology.replicas):
            if LEADS in replica.since_start():
                return index
        await asyncio.sleep(0.2)
    raise AssertionError("no replica took the lead within 30s")


async def watch_gap(topology: Topology, hold: Path, writer: int, watcher: int) -> float:
    """Seconds from an end committed through replica `writer` to `stigmer executions watch`
    on replica `watcher` printing it."""
    a = topology.clients[writer]
    created = await a.run_agent("scripted", script(until=str(hold), output="never"))
    execution_id = created.execution.id
    watcher = LineWatcher(
        [sys.executable, *CLI, "executions", "watch", execution_id],
        {**topology.env, "STIGMER_ADDRESS": topology.addresses[watcher]},
    )
    try:
        await watcher.until(f"{execution_id}: ", seconds=30)
        await a.complete(execution_id, "finished by hand", reason="scale-out test")
        written = time.monotonic()
        seen = await watcher.until("COMPLETED", seconds=10)
        return seen - written
    finally:
        watcher.stop()
        await asyncio.to_thread(hold.touch)


class LineWatcher:
    """A CLI process whose output lines are read as they come, each with the time it came."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[tuple[float, str]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append((time.monotonic(), line.rstrip()))

    async def until(self, text: str, seconds: float) -> float:
        """When a line with `text` came."""
        for _ in range(int(seconds / 0.02)):
            for at, line in list(self.lines):
                if text in line:
                    return at
            await asyncio.sleep(0.02)
        said = "\n".join(line for _, line in self.lines)
        raise AssertionError(f"the watch never printed {text!r} within {seconds}s:\n{said}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


@pytest.mark.timeout(90)
async def test_a_second_server_on_one_sqlite_file_refuses_to_start(
    temporal_server: EmbeddedTemporal, tmp_path: Path
) -> None:
    """SQLite serves one process: the second server names the file and what to do instead."""
    database = tmp_path / "shared" / "stigmer.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STIGMER_")}
    env.update(
        STIGMER_DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        STIGMER_METRICS_PORT="0",
        STIGMER_CONSOLE_PORT="0",
        STIGMER_TEMPORAL_ADDRESS=temporal_server.address,
    )
    first = LineWatcher(server_argv(tmp_path / "one"), env)
    try:
        await first.until("api listening", seconds=40)
        second = await asyncio.to_thread(
            subprocess.run,
            server_argv(tmp_path / "two"),
            env=env,
            capture_output=True,
            text=True,
            timeout=40,
            check=False,
        )
        assert second.returncode != 0
        said = " ".join((second.stdout + second.stderr).split())
        assert f"is using the SQLite store {database}" in said, said
        assert "STIGMER_DATABASE_URL" in said, said
    finally:
        first.stop()


def server_argv(data_dir: Path) -> list[str]:
    port = ["--port", str(free_port())]
    return [sys.executable, *CLI, "server", "--no-workers", "--data-dir", str(data_dir), *port]
