"""The scaled-out platform as real processes: API replicas on one PostgreSQL database, and
worker processes serving every queue, each pointed at its own replica first.

It runs on a Temporal dev server of its own and a private database, so killing any part
touches no other test. Processes are the real `stigmer` command lines
(`server --no-workers`, `worker --queue ...`), as a deployment would run them.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from pathlib import Path

from stigmer.client import Client
from stigmer.config import QUEUE_KINDS
from stigmer.local.embedded import EmbeddedTemporal, free_port
from stigmer.sealing.keys import Keyring
from tests.faults.processes import PartProcess, reachable

CLI = ["-m", "stigmer.cli.main"]


class Topology:
    """`replicas` API servers and `workers` worker processes; worker i is given replica i's
    address first and the others after it, so it fails over when its own replica dies."""

    def __init__(self, root: Path, database_url: str, replicas: int = 2, workers: int = 2) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.temporal = EmbeddedTemporal(
            root / "temporal", port=free_port(), ui_port=None, startup_timeout=90
        )
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("STIGMER_")}
        self.env.update(
            STIGMER_QUEUE_PREFIX=f"s{uuid.uuid4().hex[:8]}-",
            STIGMER_DATABASE_URL=database_url,
            STIGMER_METRICS_PORT="0",
            STIGMER_CONSOLE_PORT="0",
            STIGMER_LOG_LEVEL="INFO",
            STIGMER_WORKER_TOKEN=secrets.token_urlsafe(24),
            STIGMER_PAYLOAD_KEYS=Keyring.fresh().render(),
            PYTHONUNBUFFERED="1",
        )
        self.addresses = [f"127.0.0.1:{free_port()}" for _ in range(replicas)]
        self.replicas = [self._replica(index) for index in range(replicas)]
        self.workers = [self._worker(index % replicas, index) for index in range(workers)]
        self.clients = [Client(address) for address in self.addresses]

    @property
    def parts(self) -> list[PartProcess]:
        return [*self.replicas, *self.workers]

    def _replica(self, index: int) -> PartProcess:
        port = self.addresses[index].rsplit(":", 1)[1]
        argv = [
            *CLI,
            "server",
            "--no-workers",
            "--port",
            port,
            "--data-dir",
            str(self.root / f"replica-{index}"),
            "--temporal-address",
            self.temporal.address,
        ]
        return PartProcess(f"replica {index}", argv, self.env, self.root / f"replica-{index}.log")

    def _worker(self, replica: int, index: int) -> PartProcess:
        own_first = self.addresses[replica:] + self.addresses[:replica]
        queues = [arg for kind in QUEUE_KINDS for arg in ("--queue", kind)]
        argv = [
            *CLI,
            "worker",
            *queues,
            "--temporal-address",
            self.temporal.address,
            "--address",
            ",".join(own_first),
        ]
        return PartProcess(f"worker {index}", argv, self.env, self.root / f"worker-{index}.log")

    async def start(self) -> None:
        await self.temporal.start()
        for replica in self.replicas:
            replica.start()
        for client, replica in zip(self.clients, self.replicas, strict=True):
            await self.answering(client, replica)
        for worker in self.workers:
            worker.start()
        for worker in self.workers:
            await worker.wait_for_line("workers polling")

    async def answering(self, client: Client, replica: PartProcess, seconds: float = 60) -> None:
        for _ in range(int(seconds / 0.2)):
            if await reachable(client, lambda c: c.list("agent")) is not None:
                return
            if not replica.running:
                break
            await asyncio.sleep(0.2)
        raise AssertionError(f"{replica.name} did not answer\n{self.logs()}")

    async def close(self) -> None:
        for client in self.clients:
            await client.close()
        for part in reversed(self.parts):
            await asyncio.to_thread(part.stop)
        await self.temporal.stop()

    def logs(self) -> str:
        sections = [(f"{p.name} ({p.log})", p.tail()) for p in self.parts]
        sections.append((f"temporal ({self.temporal.log_path})", self.temporal.log_tail()))
        return "\n".join(f"\n----- {name} -----\n{text}" for name, text in sections)
