"""The watch gap across API replicas: an end written through replica A, seen by a Watch held
on replica B.

Two `stigmer server --no-workers` replicas share one PostgreSQL database (a fresh one on
`--postgres`, dropped afterwards) and a fresh embedded Temporal. For each of `--ends`
agent executions, created through A and left pending (no worker runs them), a Watch is
held on B; the execution is completed by hand through A. The gap is the time from the
end's `finished_at` (stamped by A as it writes the end) to B's stream delivering it: one
machine, one clock. Without LISTEN/NOTIFY it would be B's poll (5 s).

    python -m benchmarks.replicas --ends 30
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from benchmarks.common import (
    AGENT,
    SCRIPTED,
    Report,
    arguments,
    command_line,
    finish,
    ms,
    percentiles,
    pyplot,
    save_figure,
    script,
    state_dir,
)
from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import Client
from stigmer.local.embedded import EmbeddedTemporal, free_port
from stigmer.sealing.keys import Keyring

POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
READY_SECONDS = 60.0


@asynccontextmanager
async def fresh_database(server: str) -> AsyncIterator[str]:
    """An empty database on `server` (a SQLAlchemy URL), dropped afterwards."""
    name = f"stigmer_bench_{uuid.uuid4().hex[:12]}"
    url = make_url(server)
    maintenance = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(False))
    try:
        await maintenance.execute(f'CREATE DATABASE "{name}"')
        yield url.set(database=name).render_as_string(False)
    finally:
        await maintenance.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await maintenance.close()


@asynccontextmanager
async def two_replicas(workdir: Path, database_url: str) -> AsyncIterator[tuple[Client, Client]]:
    """Clients of two API replicas on one database and a Temporal of their own."""
    temporal = EmbeddedTemporal(workdir / "temporal", port=free_port(), ui_port=None)
    await temporal.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STIGMER_")}
    env.update(
        STIGMER_DATABASE_URL=database_url,
        STIGMER_WORKER_TOKEN=secrets.token_urlsafe(24),
        STIGMER_PAYLOAD_KEYS=Keyring.fresh().render(),
        STIGMER_METRICS_PORT="0",
        STIGMER_CONSOLE_PORT="0",
        STIGMER_LOG_LEVEL="WARNING",
    )
    stigmer = str(Path(sys.executable).parent / "stigmer")
    processes: list[subprocess.Popen[bytes]] = []
    clients: list[Client] = []
    try:
        for index in range(2):
            port = free_port()
            argv = [stigmer, "server", "--no-workers", "--port", str(port)]
            argv += ["--data-dir", str(workdir / f"replica-{index}")]
            argv += ["--temporal-address", temporal.address]
            processes.append(spawn(argv, env, workdir / f"replica-{index}.log"))
            client = Client(f"127.0.0.1:{port}")
            clients.append(client)
            await client.wait_ready(READY_SECONDS)
        yield clients[0], clients[1]
    finally:
        for client in clients:
            await client.close()
        for process in processes:
            process.terminate()
        for process in processes:
            await asyncio.to_thread(process.wait, 20)
        await temporal.stop()


def spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)


async def one_gap(a: Client, b: Client) -> float:
    """Seconds from an end written through `a` to a Watch on `b` delivering it."""
    created = await a.run_agent(AGENT, script(3600))
    execution_id = created.execution.id
    first = asyncio.Event()
    seen: list[tuple[float, pb.Execution]] = []

    async def watch() -> None:
        async for execution in b.watch(execution_id):
            first.set()
            seen.append((time.time(), execution))

    watching = asyncio.create_task(watch())
    try:
        await asyncio.wait_for(first.wait(), 30)
        await a.complete(execution_id, "finished by hand", reason="benchmark")
        await asyncio.wait_for(watching, 30)
    finally:
        watching.cancel()
    received, ended = next((at, e) for at, e in seen if e.status.phase == pb.COMPLETED)
    return received - ended.status.finished_at.ToDatetime().timestamp()


async def run(ends: int, postgres: str, workdir: Path) -> list[float]:
    async with fresh_database(postgres) as url, two_replicas(workdir, url) as (a, b):
        await a.apply("agent", AGENT, SCRIPTED)
        return [await one_gap(a, b) for _ in range(ends)]


def plot(report: Report, path: Path) -> None:
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(8, 4))
    axes.hist(report.series["gaps ms"], bins=20)
    axes.set_xlabel("ms from an end written through replica A to a Watch on replica B")
    axes.set_ylabel("ends")
    axes.set_title(f"{report.parameters['ends']} ends, two API replicas on one PostgreSQL")
    save_figure(figure, path)


def main() -> None:
    parser = arguments(__doc__ or "", ends=30, postgres=POSTGRES)
    parser.add_argument("--ends", type=int, help="executions ended through replica A")
    parser.add_argument("--postgres", help="the server to make a fresh database on")
    args = parser.parse_args()
    if args.quick:
        args.ends = 5
    report = Report("replicas", command_line("replicas"), {"ends": args.ends})
    with state_dir(args.workdir) as workdir:
        gaps = asyncio.run(run(args.ends, args.postgres, workdir))
    figures: dict[str, Any] = {f"{k} ms": ms(v) for k, v in percentiles(gaps).items()}
    figures["ends"] = len(gaps)
    report.figures = figures
    report.series = {"gaps ms": [ms(gap) for gap in gaps]}
    finish(report, args.out, lambda path: plot(report, path))


if __name__ == "__main__":
    main()
