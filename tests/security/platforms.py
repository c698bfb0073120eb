"""The platforms the security tests attack, each part a real `stigmer` process.

- *default*: `stigmer server` as a user starts it: the API on loopback without a user
  token, and its own workers in the same process with the worker credential it made.
- *public*: `stigmer server --host 0.0.0.0 --allow-plaintext --no-workers` with a user
  token, and one `stigmer worker` process for all three queues that reads the worker
  credential from the file the server made.
- *guarded*: `stigmer server` on loopback with a user token read from `--token-file`, its
  console served, and its own workers holding the secret `API_KEY`.
- *permitted*: `stigmer server` whose workers allow definitions some commands and the
  files of one directory (`stigmer.permissions`).

Both run on the session's Temporal dev server with their own queue prefix, log at DEBUG
to a file per process, and are reached the way an outsider would: the public one at the
machine's own non-loopback address when it has one.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from stigmer.client import ApiError, ApiUnreachable, Client, WorkerClient
from stigmer.local.embedded import free_port
from tests.faults.processes import PartProcess

READY_SECONDS = 90.0
CLI = ["-m", "stigmer.cli.main"]
API_KEY = "sk-Live/Secret+42 =&x-security"
"""The secret the public platform's engine worker holds; every encoding of it differs."""
SCRIPTED = {"entrypoint": "stigmer.agents.scripted:agent"}


def outside_host() -> str | None:
    """An IPv4 address of this machine that is not loopback, if it has one."""
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family == socket.AF_INET and not address.address.startswith("127."):
                return str(address.address)
    return None


@dataclass
class ServedPlatform:
    name: str
    port: int
    host: str
    """Where clients reach the API: the outside address for the public platform."""
    data_dir: Path
    user_token: str | None
    console_port: int = 0
    """0: no console."""
    parts: list[PartProcess] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def loopback(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def queue_prefix(self) -> str:
        return self.parts[0].env["STIGMER_QUEUE_PREFIX"]

    @property
    def console(self) -> str:
        assert self.console_port, f"the {self.name} platform serves no console"
        return f"http://127.0.0.1:{self.console_port}"

    def worker_credential(self) -> str:
        return (self.data_dir / "worker-token").read_text().strip()

    def client(self) -> Client:
        """A client with the user token (none on the default platform)."""
        return Client(self.address, token=self.user_token, allow_plaintext=True)

    def worker_client(self) -> WorkerClient:
        return WorkerClient(self.loopback, token=self.worker_credential())

    def logs(self) -> str:
        return "\n".join(part.log.read_text(errors="replace") for part in self.parts)

    async def ready(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        async with self.client() as client:
            while True:
                try:
                    await client.list("agent")
                    break
                except (ApiUnreachable, ApiError):
                    if time.monotonic() > deadline or not all(p.running for p in self.parts):
                        raise AssertionError(f"{self.name}: no API\n{self.tails()}") from None
                    await asyncio.sleep(0.2)
        while "workers polling" not in self.logs():
            if time.monotonic() > deadline or not all(p.running for p in self.parts):
                raise AssertionError(f"{self.name}: no workers\n{self.tails()}")
            await asyncio.sleep(0.2)

    def tails(self) -> str:
        return "\n".join(f"----- {part.name} -----\n{part.tail()}" for part in self.parts)

    async def stop(self) -> None:
        for part in reversed(self.parts):
            await asyncio.to_thread(part.stop)


def _environment(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STIGMER_")}
    env.update(
        STIGMER_QUEUE_PREFIX=f"s{uuid.uuid4().hex[:8]}-",
        STIGMER_METRICS_PORT="0",
        STIGMER_CONSOLE_PORT="0",
        STIGMER_LOG_LEVEL="DEBUG",
        HOME=str(root),
    )
    env.update(extra)
    return env


def default_platform(temporal_address: str, root: Path) -> ServedPlatform:
    """`stigmer server` on its defaults (but the session's Temporal and free ports)."""
    port = free_port()
    platform = ServedPlatform("default", port, "127.0.0.1", root / "data", None)
    env = _environment(root)
    argv = [*CLI, "server", "--temporal-address", temporal_address, "--port", str(port)]
    argv += ["--data-dir", str(platform.data_dir)]
    platform.parts.append(PartProcess("server", argv, env, root / "server.log"))
    return platform


def public_platform(
    temporal_address: str, root: Path, worker_environment: dict[str, str]
) -> ServedPlatform:
    """An API off loopback with a user token, and a worker process apart from it."""
    port = free_port("0.0.0.0")
    token = f"user-token-{secrets.token_hex(12)}"
    platform = ServedPlatform("public", port, outside_host() or "127.0.0.1", root / "data", token)
    env = _environment(root)
    server = [*CLI, "server", "--host", "0.0.0.0", "--port", str(port), "--allow-plaintext"]
    server += ["--no-workers", "--temporal-address", temporal_address]
    server += ["--data-dir", str(platform.data_dir)]
    platform.parts.append(
        PartProcess("server", server, {**env, "STIGMER_API_TOKEN": token}, root / "server.log")
    )
    worker = [*CLI, "worker", "--queue", "engine", "--queue", "agents", "--queue", "runner"]
    worker += ["--temporal-address", temporal_address, "--address", platform.loopback]
    worker += ["--worker-token-file", str(platform.data_dir / "worker-token")]
    keys = {"STIGMER_PAYLOAD_KEYS_FILE": str(platform.data_dir / "payload-keys")}
    worker_env = {**env, "STIGMER_DATA_DIR": str(root / "worker"), **keys, **worker_environment}
    platform.parts.append(PartProcess("worker", worker, worker_env, root / "worker.log"))
    return platform


def permitted_platform(
    temporal_address: str, root: Path, processes: list[str], files: Path
) -> ServedPlatform:
    """`stigmer server` whose workers let definitions start `processes` (given as
    `--allow-process` flags) and read the files under `files` (STIGMER_ALLOW_FILES)."""
    port = free_port()
    platform = ServedPlatform("permitted", port, "127.0.0.1", root / "data", None)
    env = _environment(root, STIGMER_ALLOW_FILES=str(files))
    argv = [*CLI, "server", "--temporal-address", temporal_address, "--port", str(port)]
    argv += ["--data-dir", str(platform.data_dir)]
    for command in processes:
        argv += ["--allow-process", command]
    platform.parts.append(PartProcess("server", argv, env, root / "server.log"))
    return platform


def tuned_platform(temporal_address: str, root: Path, name: str, **settings: str) -> ServedPlatform:
    """`stigmer server` on its defaults but for `settings` (`STIGMER_*` variables: another
    database, a shorter reconcile interval), with its own workers."""
    port = free_port()
    platform = ServedPlatform(name, port, "127.0.0.1", root / "data", None)
    env = _environment(root, **settings)
    argv = [*CLI, "server", "--temporal-address", temporal_address, "--port", str(port)]
    argv += ["--data-dir", str(platform.data_dir)]
    platform.parts.append(PartProcess("server", argv, env, root / "server.log"))
    return platform


def guarded_platform(temporal_address: str, root: Path) -> ServedPlatform:
    """`stigmer server` on loopback that requires a user token, given by a file (so it is
    not on any command line), with its console and its workers, which hold `API_KEY`."""
    port, console = free_port(), free_port()
    token = f"guarded-token-{secrets.token_hex(12)}"
    token_file = root / "user-token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    platform = ServedPlatform("guarded", port, "127.0.0.1", root / "data", token, console)
    env = _environment(root, STIGMER_CONSOLE_PORT=str(console), STIGMER_SECRET_API_KEY=API_KEY)
    argv = [*CLI, "server", "--temporal-address", temporal_address, "--port", str(port)]
    argv += ["--data-dir", str(platform.data_dir), "--token-file", str(token_file)]
    platform.parts.append(PartProcess("server", argv, env, root / "server.log"))
    return platform


async def started(platform: ServedPlatform) -> ServedPlatform:
    """Start the server, then (once it made the worker credential) the rest."""
    server, *others = platform.parts
    server.start()
    credential = platform.data_dir / "worker-token"
    deadline = time.monotonic() + READY_SECONDS
    while not credential.exists():
        if time.monotonic() > deadline or not server.running:
            await platform.stop()
            raise AssertionError(f"{platform.name}: no worker credential\n{platform.tails()}")
        await asyncio.sleep(0.1)
    for part in others:
        part.start()
    try:
        await platform.ready()
    except BaseException:
        await platform.stop()
        raise
    return platform
