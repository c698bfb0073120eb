"""What every benchmark shares: the platform as separate processes, samplers, figures.

The platform runs as it does in production, one process per part, on a fresh embedded
Temporal server: the API (`stigmer server --no-workers`), the agents and runner workers
(`stigmer worker`), and the engine worker (`benchmarks.engine_worker`, the same worker
with a slot counter). The benchmark driver is a fourth process; memory is sampled for
each with psutil. Everything shares the machine's cores, as it would on one host.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client as TemporalClient

from benchmarks.counting import SlotCounter
from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import Client, WorkerClient
from stigmer.config import load_settings
from stigmer.local.embedded import EmbeddedTemporal, dying_with_parent, free_port
from stigmer.observability.logs import configure_logging
from stigmer.sealing.keys import Keyring
from stigmer.temporal import connect_temporal

RESULTS = Path(__file__).resolve().parent / "results"
SCRIPTED = {"entrypoint": "stigmer.agents.scripted:agent"}
AGENT = "scripted"


def script(sleep: float, output: str = "done") -> str:
    """The message that makes the scripted agent wait `sleep` seconds and answer."""
    return json.dumps({"sleep": sleep, "output": output})


def agent_document(
    message: str, name: str = "bench", heartbeat_seconds: float | None = None
) -> dict[str, Any]:
    """A DSL workflow with one `call: agent` task (its caller's heartbeat timeout set when
    given)."""
    call: dict[str, Any] = {"agent": AGENT, "message": message}
    if heartbeat_seconds is not None:
        call["heartbeatTimeout"] = {"seconds": heartbeat_seconds}
    return {
        "document": {"dsl": "1.0.0", "namespace": "bench", "name": name, "version": "1.0.0"},
        "do": [{"ask": {"call": "agent", "with": call}}],
    }


# --------------------------------------------------------------------------- platform


@dataclass
class Part:
    name: str
    process: subprocess.Popen[bytes]


class MemoryWatch:
    """Peak resident memory of named processes, sampled every `every` seconds."""

    def __init__(self, pids: dict[str, int], every: float = 0.5) -> None:
        self.processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.peak_mb = dict.fromkeys(pids, 0.0)
        self.every = every
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> None:
        for name, process in self.processes.items():
            with contextlib.suppress(psutil.Error):
                rss = process.memory_info().rss / 2**20
                self.peak_mb[name] = max(self.peak_mb[name], rss)

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.every)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> dict[str, float]:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.sample()
        return {name: round(mb, 1) for name, mb in self.peak_mb.items()}


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds (user and system) each named process has used so far."""
    used = {}
    for name, pid in pids.items():
        with contextlib.suppress(psutil.Error):
            times = psutil.Process(pid).cpu_times()
            used[name] = times.user + times.system
    return used


class BenchPlatform:
    """Temporal, API, agents+runner workers and engine worker, each its own process.

    `temporal_client` carries `counter`, which counts the activities of workers the
    driver builds on it (the benchmark-only callers).
    """

    def __init__(
        self,
        workdir: Path,
        *,
        engine_slots: int = 5,
        runner_slots: int = 500,
        runner_heartbeat: float = 10.0,
        workflow_cache: int = 1000,
    ) -> None:
        self.workdir = workdir
        self.workflow_cache = workflow_cache
        self.engine_slots = engine_slots
        self.runner_slots = runner_slots
        self.runner_heartbeat = runner_heartbeat
        self.samples = workdir / "engine-slots.jsonl"
        self.parts: list[Part] = []
        self.cpu_per_call: dict[str, float] = {}
        """CPU milliseconds per call each process spent in a measured run, when one sets it."""
        self.temporal = EmbeddedTemporal(
            workdir / "temporal", port=free_port(), ui_port=None, startup_timeout=90
        )
        port = free_port()
        self.address = f"127.0.0.1:{port}"
        self.port = port

    async def __aenter__(self) -> BenchPlatform:
        try:
            await self._start()
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def _start(self) -> None:
        # The driver's own callers log warnings; nothing scrapes its metrics, so none are kept.
        configure_logging(load_settings(log_level="WARNING", metrics_port=0))
        self.workdir.mkdir(parents=True, exist_ok=True)
        await self.temporal.start()
        stigmer = str(Path(sys.executable).parent / "stigmer")
        env = {
            **os.environ,
            "STIGMER_RUNNER_MAX_ACTIVITIES": str(self.runner_slots),
            "STIGMER_RUNNER_HEARTBEAT_SECONDS": str(self.runner_heartbeat),
            "STIGMER_WORKFLOW_CACHE": str(self.workflow_cache),
            "STIGMER_ADDRESS": self.address,
            "STIGMER_WORKER_TOKEN": secrets.token_urlsafe(24),
            "STIGMER_PAYLOAD_KEYS": Keyring.fresh().render(),
        }
        temporal = self.temporal.address
        self._spawn(
            "api",
            [
                stigmer,
                "server",
                "--no-workers",
                "--data-dir",
                str(self.workdir / "data"),
                "--port",
                str(self.port),
                "--temporal-address",
                temporal,
                "--metrics-port",
                "0",
                "--console-port",  # not the default port, which another platform may hold
                "0",
            ],
            env,
        )
        # The driver runs callers of its own, as the platform's engine worker does.
        self.client = WorkerClient(self.address, token=env["STIGMER_WORKER_TOKEN"])
        await self.client.wait_ready(60)
        self._spawn(
            "agents+runner workers",
            [
                stigmer,
                "worker",
                "--queue",
                "agents",
                "--queue",
                "runner",
                "--temporal-address",
                temporal,
                "--address",
                self.address,
                "--metrics-port",
                "0",
            ],
            env,
        )
        self._spawn(
            "engine worker",
            [
                sys.executable,
                "-m",
                "benchmarks.engine_worker",
                "--temporal-address",
                temporal,
                "--address",
                self.address,
                "--slots",
                str(self.engine_slots),
                "--samples",
                str(self.samples),
            ],
            env,
        )
        self.counter = SlotCounter()
        self.temporal_client = await connect_temporal(
            load_settings(temporal_address=temporal, payload_keys=env["STIGMER_PAYLOAD_KEYS"]),
            interceptors=[self.counter],
        )
        await self.client.apply("agent", AGENT, SCRIPTED)
        warm = await self.client.run_workflow(document=agent_document(script(0)), input={})
        await asyncio.wait_for(self.client.wait(warm.execution.id), 120)
        # Two of the engine worker's slot readings (every 0.25 s) after the warm-up, so a
        # run counting from now finds the warm-up's pending call before it, never after.
        await asyncio.sleep(0.6)

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        log = (self.workdir / f"{name.split()[0]}.log").open("ab")
        # Dying with the driver: a driver killed at a timeout leaves no part running.
        process = subprocess.Popen(
            dying_with_parent(argv),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).parents[1],
        )
        self.parts.append(Part(name, process))

    def pids(self) -> dict[str, int]:
        """Every process of the run, the Temporal server and this driver included."""
        found = {part.name: part.process.pid for part in self.parts}
        found["temporal server"] = self.temporal.pid or 0
        found["benchmark driver"] = os.getpid()
        return found

    def slot_readings(self, since: float = 0.0) -> list[dict[str, Any]]:
        """The engine worker's slot readings taken at or after `since` (wall clock)."""
        if not self.samples.exists():
            return []
        readings = [json.loads(line) for line in self.samples.read_text().splitlines() if line]
        return [r for r in readings if r["t"] >= since]

    async def __aexit__(self, *exc: object) -> None:
        if hasattr(self, "client"):
            await self.client.close()
        for part in reversed(self.parts):
            part.process.terminate()
        for part in reversed(self.parts):
            try:
                await asyncio.to_thread(part.process.wait, 20)
            except subprocess.TimeoutExpired:
                part.process.kill()
                part.process.wait()
        await self.temporal.stop()


# --------------------------------------------------------------------------- measuring


async def bounded(limit: int, jobs: Sequence[Callable[[], Awaitable[Any]]]) -> list[Any]:
    """Run the jobs with at most `limit` at once, in order of their results."""
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await job()

    return await asyncio.gather(*(one(job) for job in jobs))


@dataclass
class ActivityTimes:
    scheduled: datetime
    completed: datetime | None = None
    """When the server recorded the activity's completion: the caller may go on."""


async def activity_times(
    temporal: TemporalClient, workflow_id: str, activity_type: str
) -> ActivityTimes | None:
    """Scheduled and completed times of the first activity of a type in a workflow."""
    history = await temporal.get_workflow_handle(workflow_id).fetch_history()
    scheduled_id = 0
    times: ActivityTimes | None = None
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED and not scheduled_id:
            attributes = event.activity_task_scheduled_event_attributes
            if attributes.activity_type.name == activity_type:
                scheduled_id = event.event_id
                times = ActivityTimes(event.event_time.ToDatetime())
        elif (
            event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
            and times
            and event.activity_task_completed_event_attributes.scheduled_event_id == scheduled_id
        ):
            times.completed = event.event_time.ToDatetime()
    return times


async def all_executions(client: Client, kind: str) -> list[pb.Execution]:
    """Every execution of a kind, through the API's pages."""
    found: list[pb.Execution] = []
    token = ""
    while True:
        page = await client.list_executions(kind=kind, page_size=1000, page_token=token)
        found.extend(page.executions)
        token = page.next_page_token
        if not token:
            return found


async def any_open(client: Client) -> bool:
    """Whether some workflow execution has not finished yet (one small API call)."""
    page = await client.list_executions(
        kind="WORKFLOW_EXECUTION", phases=["PENDING", "IN_PROGRESS"], page_size=1
    )
    return bool(page.executions)


async def until_finished(client: Client, seconds: float, every: float = 0.5) -> None:
    """Wait until no workflow execution is open, or fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while await any_open(client):
        if time.monotonic() > deadline:
            raise TimeoutError(f"workflow executions still open after {seconds:.0f}s")
        await asyncio.sleep(every)


async def until_settled(client: Client, seconds: float, every: float = 0.5) -> None:
    """Wait until every agent execution's callback has had its answer recorded.

    A caller resumes the moment Temporal takes the completion; the execution records the
    answer just after, so a run can be finished while its callback still reads WAITING.
    """
    deadline = time.monotonic() + seconds
    while any(
        a.status.callback.outcome == pb.CALLBACK_WAITING
        for a in await all_executions(client, "AGENT_EXECUTION")
    ):
        if time.monotonic() > deadline:
            raise TimeoutError(f"callbacks still unanswered after {seconds:.0f}s")
        await asyncio.sleep(every)


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99/max by nearest rank, in the unit given; empty input gives NaN."""
    ordered = sorted(values)
    if not ordered:
        return {k: math.nan for k in ("p50", "p90", "p99", "max", "mean")}

    def rank(q: float) -> float:
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

    return {
        "p50": rank(0.50),
        "p90": rank(0.90),
        "p99": rank(0.99),
        "max": ordered[-1],
        "mean": sum(ordered) / len(ordered),
    }


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


# --------------------------------------------------------------------------- reporting


@dataclass
class Report:
    """A benchmark's figures: printed as a table, written as JSON next to its plot."""

    name: str
    command: str
    parameters: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    series: dict[str, Any] = field(default_factory=dict)

    def table(self) -> str:
        """The rows as a text table; without rows, the figures one per line."""
        rows = self.rows or [{"figure": k, "value": v} for k, v in self.figures.items()]
        if not rows:
            return ""
        columns = list(rows[0])
        cells = [[_cell(row.get(c)) for c in columns] for row in rows]
        widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
        return "\n".join(lines)

    def write(self, out: Path) -> Path:
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{self.name}.json"
        body = {
            "name": self.name,
            "command": self.command,
            "when": datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
            "parameters": self.parameters,
            "rows": self.rows,
            "figures": self.figures,
            "series": self.series,
        }
        path.write_text(json.dumps(body, indent=1, default=str) + "\n")
        return path


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:g}"
    return "" if value is None else str(value)


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (files only, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure: Any, path: Path) -> None:
    """Write a finished figure as PNG and free it."""
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot().close(figure)


@contextlib.contextmanager
def state_dir(chosen: Path | None) -> Iterator[Path]:
    """Where a run keeps its state: `--workdir`, else a temporary folder removed after it."""
    if chosen is not None:
        yield chosen
        return
    with tempfile.TemporaryDirectory(prefix="stigmer-bench-") as tmp:
        yield Path(tmp)


def arguments(description: str, **defaults: Any) -> argparse.ArgumentParser:
    """The options every benchmark has: --quick, --out, --workdir."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small numbers, for the test suite")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where JSON and PNG go")
    parser.add_argument("--workdir", type=Path, default=None, help="state of the run (temp dir)")
    parser.set_defaults(**defaults)
    return parser


def command_line(module: str) -> str:
    """The command that produced a report, as it was typed."""
    return " ".join(["python -m", f"benchmarks.{module}", *sys.argv[1:]])


def finish(report: Report, out: Path, plot: Callable[[Path], None]) -> None:
    """Print the table, write the JSON and the plot."""
    print(f"\n{report.name}: {report.command}")
    print(report.table())
    if report.rows:
        for key, value in report.figures.items():
            print(f"  {key}: {_cell(value)}")
    path = report.write(out)
    image = out / f"{report.name}.png"
    plot(image)
    print(f"wrote {path} and {image}")
