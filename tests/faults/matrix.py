"""The fault matrix (docs/operations.md): one part of the platform fails, at every moment of
a call at once, and every call still ends exactly once.

A row is a part: the API, the engine, agents and runner workers, Temporal, and the store
(SQLite, and PostgreSQL on a private server). Each row runs on a platform of real
processes and faults its part twice: killed with SIGKILL and restarted at once, then down
for `OUTAGE_SECONDS` (killed, and restarted only after that long; the SQLite store is
locked by another process instead, as it has no process of its own). Every fault meets
calls at each moment:

- before create: a workflow that reaches its `call: agent` task while the part is down;
- pending: a call handed over and waiting for a runner slot (the runner is kept full);
- in progress: an agent at work through the whole fault;
- at the end: an agent that finishes as the fault begins;
- during delivery: an agent that finished just before, its end being recorded and told.

Agents are the scripted agent, held by files the scenario creates (`until`), and they
mark a file each time their body starts (`mark`), so the runs of each body are counted.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.local.embedded import EmbeddedTemporal, free_port
from tests.faults.calls import assert_each_call_completed_once
from tests.faults.processes import PartProcess, ProcessPlatform
from tests.handshake.helpers import SCRIPTED, agent_task, document, script
from tests.support.postgres import PrivateCluster

OUTAGE_SECONDS = 60.0
MOMENTS = ("before create", "pending", "in progress", "at the end", "during delivery")
PER_MOMENT = 2
STEPS = 10
"""Progress messages each agent in progress reports while the fault lasts."""
RUNNER_SLOTS = 3 * PER_MOMENT
"""The agents in progress, at the end and during delivery hold every runner slot, so the
pending calls wait for one."""
DELIVERY_LEAD = 0.5
"""How long before the fault the agents `during delivery` finish."""
SETTLE_SECONDS = 240.0
HEARTBEAT_TIMEOUT = {"seconds": 15}
"""The calls' heartbeat timeout: a caller whose worker died while it was creating its
execution (before it went pending) is retried after this long (5 minutes by default)."""


@dataclass
class Figures:
    """What one fault did to its calls."""

    part: str
    kind: str
    calls: int = 0
    completed: int = 0
    body_runs: dict[str, int] = field(default_factory=dict)
    """Body starts per moment, summed over its calls."""
    settled_after_back: float = 0.0
    """Seconds from the part being back to every call having ended and been told."""

    def line(self) -> str:
        runs = ", ".join(f"{moment} {n}" for moment, n in self.body_runs.items())
        return (
            f"{self.part} {self.kind}: {self.completed}/{self.calls} completed; agent bodies "
            f"run ({runs}); all ended {self.settled_after_back:.1f}s after it was back"
        )


@dataclass
class Moment:
    name: str
    workflow_ids: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)


class Fault:
    """Takes one part down and brings it back."""

    part = ""

    async def down(self) -> None:
        raise NotImplementedError

    async def up(self) -> None:
        raise NotImplementedError

    async def kill(self) -> None:
        await self.down()

    async def close(self) -> None:
        return None


class ProcessFault(Fault):
    def __init__(self, platform: ProcessPlatform, part: PartProcess, name: str) -> None:
        self.platform = platform
        self.process = part
        self.part = name

    async def down(self) -> None:
        self.process.kill()

    async def up(self) -> None:
        if self.process is self.platform.api:
            await self.platform.restart_api()
        else:
            await self.platform.restart_worker(self.process)


class TemporalFault(Fault):
    part = "temporal"

    def __init__(self, temporal: EmbeddedTemporal) -> None:
        self.temporal = temporal

    async def down(self) -> None:
        self.temporal.kill()
        await self.temporal.wait_exited()

    async def up(self) -> None:
        await self.temporal.start()  # same port, same data dir


class PostgresFault(Fault):
    part = "store (PostgreSQL)"

    def __init__(self, cluster: PrivateCluster) -> None:
        self.cluster = cluster

    async def down(self) -> None:
        await asyncio.to_thread(self.cluster.kill)

    async def up(self) -> None:
        await asyncio.to_thread(self.cluster.start)


class SqliteLock(Fault):
    """The store unavailable for writing: another process holds the database's write lock,
    as a backup tool or a stuck writer would. (Killing the SQLite store is killing the
    API that holds it: the API row.)"""

    part = "store (SQLite)"

    def __init__(self, database: Path) -> None:
        self.database = database
        self._release = threading.Event()
        self._held = threading.Event()
        self._thread: threading.Thread | None = None

    async def down(self) -> None:
        self._release.clear()
        self._held.clear()
        self._thread = threading.Thread(target=self._hold, daemon=True)
        self._thread.start()
        assert await asyncio.to_thread(self._held.wait, 30), "could not lock the store"

    async def up(self) -> None:
        self._release.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 30)

    async def kill(self) -> None:
        raise AssertionError("SQLite has no process of its own: see the API row")

    def _hold(self) -> None:
        connection = sqlite3.connect(self.database, timeout=30, isolation_level=None)
        try:
            connection.execute("BEGIN EXCLUSIVE")
            self._held.set()
            self._release.wait(OUTAGE_SECONDS * 3)
            connection.execute("ROLLBACK")
        finally:
            connection.close()


class Row:
    """One part's row: a platform, its fault, and the calls it meets."""

    def __init__(
        self,
        part: str,
        root: Path,
        session_temporal: EmbeddedTemporal,
        starting: asyncio.Semaphore,
    ) -> None:
        self.part = part
        self.starting = starting
        self.root = root
        self.session_temporal = session_temporal
        self.own_temporal: EmbeddedTemporal | None = None
        self.cluster: PrivateCluster | None = None
        self.platform: ProcessPlatform | None = None
        self.fault: Fault | None = None
        self.figures: list[Figures] = []
        self._calls_so_far = 0
        self._logs: ProcessPlatform | None = None
        self._cluster_log: Callable[[], str] | None = None

    async def run(self) -> list[Figures]:
        try:
            async with self.starting:  # a few platforms start at a time: 2 cores are shared
                await self._start()
            if self.part != "sqlite":
                self.figures.append(await self._meet("kill", self._kill))
            self.figures.append(await self._meet("outage", self._outage))
            return self.figures
        finally:
            await self.close()

    def logs(self) -> str:
        """The tails of the row's process logs (they stay on disk after it closes)."""
        text = self._logs.logs() if self._logs else ""
        if self._cluster_log is not None:
            text += f"\n----- PostgreSQL -----\n{self._cluster_log()}"
        return text

    async def close(self) -> None:
        platform, temporal, cluster = self.platform, self.own_temporal, self.cluster
        self.platform = self.own_temporal = self.cluster = None
        if platform is not None:
            await platform.close()
        if temporal is not None:
            await temporal.stop()
        if cluster is not None:
            await asyncio.to_thread(cluster.remove)

    async def _start(self) -> None:
        temporal = self.session_temporal
        if self.part == "temporal":
            temporal = self.own_temporal = EmbeddedTemporal(
                self.root / "temporal", port=free_port(), ui_port=None, startup_timeout=90
            )
            await temporal.start()
        database_url = None
        if self.part == "postgres":
            self.cluster = await asyncio.to_thread(PrivateCluster)
            await asyncio.to_thread(self.cluster.start)
            self._cluster_log = self.cluster.log_tail
            database_url = self.cluster.url
        platform = self.platform = ProcessPlatform(
            temporal.address,
            self.root / "platform",
            database_url=database_url,
            runner_slots=RUNNER_SLOTS,
            allow_files=self.root,  # the marks of each kind's calls
        )
        self._logs = platform
        await platform.start()
        await platform.client.apply("agent", "scripted", SCRIPTED)
        self.fault = self._fault(platform)

    def _fault(self, platform: ProcessPlatform) -> Fault:
        match self.part:
            case "api":
                return ProcessFault(platform, platform.api, "API")
            case "engine" | "agents" | "runner":
                part = getattr(platform, self.part)
                return ProcessFault(platform, part, f"{self.part} worker")
            case "temporal":
                assert self.own_temporal is not None
                return TemporalFault(self.own_temporal)
            case "postgres":
                assert self.cluster is not None
                return PostgresFault(self.cluster)
            case "sqlite":
                return SqliteLock(platform.data_dir / "stigmer.db")
        raise AssertionError(f"no such part {self.part}")

    async def _kill(self, fault: Fault) -> float:
        await fault.kill()
        await fault.up()
        return time.monotonic()

    async def _outage(self, fault: Fault) -> float:
        await fault.down()
        await asyncio.sleep(OUTAGE_SECONDS)
        await fault.up()
        return time.monotonic()

    async def _meet(self, kind: str, inflict: Callable[[Fault], Awaitable[float]]) -> Figures:
        """Calls at every moment, the fault, and the proof that each call ended once."""
        platform, fault = self.platform, self.fault
        assert platform is not None and fault is not None
        folder = self.root / kind
        folder.mkdir()
        marks = folder / "marks"
        moments = {name: Moment(name) for name in MOMENTS}

        async def call(
            moment: str, index: int, *, hold: str = "", pause: float = 0, **extra: float
        ) -> None:
            output = f"{kind} {moment} {index}"
            message = script(mark=str(marks), output=output, **_held(folder, hold), **extra)
            tasks = [agent_task("ask", message, heartbeatTimeout=HEARTBEAT_TIMEOUT)]
            if pause:
                tasks.insert(0, {"pause": {"wait": {"milliseconds": int(pause * 1000)}}})
            created = await platform.client.run_workflow(document=document(*tasks))
            moments[moment].workflow_ids.append(created.execution.id)
            moments[moment].outputs.append(output)

        # The agents in progress report steps all through the fault: none may be lost.
        talking = OUTAGE_SECONDS if kind == "outage" else 5.0
        for index in range(PER_MOMENT):
            await call("in progress", index, hold="hold", steps=STEPS, sleep=talking)
            await call("at the end", index, hold="end")
            await call("during delivery", index, hold="deliver")
        await _until_lines(marks, 3 * PER_MOMENT)  # every runner slot is taken
        for index in range(PER_MOMENT):
            await call("pending", index, hold="hold")
        # `before create`: workflows whose call comes while the part is down (or dying).
        pause = OUTAGE_SECONDS / 3 if kind == "outage" else 0.2
        for index in range(PER_MOMENT):
            await call("before create", index, pause=pause)
        (folder / "deliver").touch()
        await asyncio.sleep(DELIVERY_LEAD)
        hit = asyncio.create_task(inflict(fault))
        (folder / "end").touch()
        back_at = await hit
        (folder / "hold").touch()
        every = [m for m in moments.values()]
        workflow_ids = [w for m in every for w in m.workflow_ids]
        outputs = [o for m in every for o in m.outputs]
        self._calls_so_far += len(workflow_ids)
        calls = await assert_each_call_completed_once(
            platform,
            workflow_ids,
            outputs,
            seconds=SETTLE_SECONDS,
            agents_in_store=self._calls_so_far,
        )
        by_workflow = dict(zip(workflow_ids, calls, strict=True))
        for workflow_id in moments["in progress"].workflow_ids:
            said = {m.content for m in by_workflow[workflow_id].status.messages}
            missing = [n for n in range(1, STEPS + 1) if f"step {n} of {STEPS}" not in said]
            assert not missing, f"progress lost through the fault: steps {missing}"
        figures = Figures(fault.part, kind, calls=len(calls))
        figures.settled_after_back = time.monotonic() - back_at
        figures.completed = sum(1 for c in calls if c.status.phase == pb.COMPLETED)
        runs = _runs(marks)
        for moment in every:
            figures.body_runs[moment.name] = sum(
                runs.get(by_workflow[w].id, 0) for w in moment.workflow_ids
            )
        return figures


def _held(folder: Path, hold: str) -> dict[str, str]:
    return {"until": str(folder / hold)} if hold else {}


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except FileNotFoundError:
        return []


def _runs(marks: Path) -> dict[str, int]:
    counted: dict[str, int] = {}
    for line in _lines(marks):
        execution_id = line.split()[0]
        counted[execution_id] = counted.get(execution_id, 0) + 1
    return counted


async def _until_lines(path: Path, count: int, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if len(await asyncio.to_thread(_lines, path)) >= count:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{count} agents did not start within {seconds:g}s")
