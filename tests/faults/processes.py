"""The platform's parts as separate OS processes, so a test can crash and restart each one.

Each part is the real `stigmer` command line (`server --no-workers`, `worker --queue ...`)
on a Temporal the test chooses, with its own queue prefix and SQLite store, and logs to a
file under the test's tmp dir, so a failure can show what each process said.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Protocol, TypeVar

import grpc
import pytest

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import ApiError, ApiUnreachable, Client
from stigmer.contract.phases import TERMINAL
from stigmer.local.embedded import dying_with_parent, free_port, terminate
from stigmer.sealing.keys import Keyring

T = TypeVar("T")

LOGS_KEY = pytest.StashKey[list["ProcessPlatform"]]()
"""The platforms a test started, whose logs its failure report shows."""
UNSETTLED = (pb.CALLBACK_OUTCOME_UNSPECIFIED, pb.CALLBACK_WAITING)
READY_SECONDS = 60.0
STOP_GRACE = 10.0
TAIL_LINES = 40
TRACEBACK_BOX = ("│", "╭", "╰")
"""Console logs draw tracebacks with their locals in boxes; a tail shows their last line."""


class PartProcess:
    """One platform process: start, SIGKILL, restart and stop it; read its log."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self._offset = 0

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        assert not self.running, f"{self.name} is already running"
        argv = dying_with_parent([sys.executable, *self.argv])
        with open(self.log, "ab") as out:
            self._offset = out.tell()
            out.write(f"--- {self.name} starting at {time.strftime('%X')} ---\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                argv, env=self.env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
            )

    def kill(self) -> None:
        """SIGKILL, as a crash would: no cleanup of any kind runs in the process."""
        assert self.process is not None and self.running, f"{self.name} is not running"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self._note(f"killed with SIGKILL (exit {self.process.returncode})")

    def stop(self, grace: float = STOP_GRACE) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds; only ever this test's own child."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        terminate(process, grace)
        self._note(f"stopped (exit {process.returncode})")

    async def wait_for_line(self, text: str, seconds: float = READY_SECONDS) -> None:
        """Until `text` appears in the log since the latest start."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if text in self.since_start():
                return
            if not self.running:
                raise AssertionError(f"{self.name} exited before logging {text!r}")
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} did not log {text!r} within {seconds:g}s")

    def tail(self, lines: int = TAIL_LINES) -> str:
        """The last lines of the log, without the bodies of boxed tracebacks (see the file)."""
        try:
            text = self.log.read_bytes().decode(errors="replace")
        except OSError:
            return ""
        kept = [line for line in text.splitlines() if not line.startswith(TRACEBACK_BOX)]
        return "\n".join(kept[-lines:])

    def since_start(self) -> str:
        """The log since the latest start."""
        with open(self.log, "rb") as log:
            log.seek(self._offset)
            return log.read().decode(errors="replace")

    def _note(self, line: str) -> None:
        with open(self.log, "ab") as out:
            out.write(f"--- {self.name} {line} at {time.strftime('%X')} ---\n".encode())


class ProcessPlatform:
    """The API and the workers of each queue (engine, agents, runner), each in its own
    process; the store is SQLite in the data dir unless `database_url` names another."""

    def __init__(
        self,
        temporal_address: str,
        root: Path,
        *,
        database_url: str | None = None,
        runner_slots: int | None = None,
        allow_files: Path | None = None,
    ) -> None:
        self.temporal_address = temporal_address
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        data_dir = self.data_dir = root / "data"
        env = {k: v for k, v in os.environ.items() if not k.startswith("STIGMER_")}
        env.update(
            STIGMER_QUEUE_PREFIX=f"f{uuid.uuid4().hex[:8]}-",
            STIGMER_DATA_DIR=str(data_dir),
            STIGMER_METRICS_PORT="0",
            STIGMER_CONSOLE_PORT="0",
            STIGMER_LOG_LEVEL="INFO",
            STIGMER_ADDRESS=self.address,
            STIGMER_WORKER_TOKEN=secrets.token_urlsafe(24),
            STIGMER_PAYLOAD_KEYS=Keyring.fresh().render(),
        )
        if database_url is not None:
            env["STIGMER_DATABASE_URL"] = database_url
        if runner_slots is not None:
            env["STIGMER_RUNNER_MAX_ACTIVITIES"] = str(runner_slots)
        if allow_files is not None:  # where the scripted agent may write its `mark`
            env["STIGMER_ALLOW_FILES"] = str(allow_files)
        cli = ["-m", "stigmer.cli.main"]
        temporal = ["--temporal-address", temporal_address]
        api_args = ["--no-workers", "--port", str(self.port), "--data-dir", str(data_dir)]
        worker_args = [*temporal, "--address", self.address]
        self.api = PartProcess(
            "api",
            [*cli, "server", *temporal, *api_args, "--metrics-port", "0"],
            env,
            root / "api.log",
        )
        self.engine = PartProcess(
            "engine worker",
            [*cli, "worker", "--queue", "engine", *worker_args],
            env,
            root / "engine.log",
        )
        self.agents = PartProcess(
            "agents worker",
            [*cli, "worker", "--queue", "agents", *worker_args],
            env,
            root / "agents.log",
        )
        self.runner = PartProcess(
            "runner worker",
            [*cli, "worker", "--queue", "runner", *worker_args],
            env,
            root / "runner.log",
        )
        self.client = Client(self.address)
        self.other_logs: list[tuple[str, Callable[[], str]]] = []
        """More logs worth showing on failure, such as a Temporal server's own."""

    @property
    def parts(self) -> list[PartProcess]:
        return [self.api, self.engine, self.agents, self.runner]

    async def start(self) -> None:
        for part in self.parts:
            part.start()
        await self.api_ready()
        await asyncio.gather(*(self.worker_ready(part) for part in self.workers))

    @property
    def workers(self) -> list[PartProcess]:
        return [self.engine, self.agents, self.runner]

    async def api_ready(self) -> None:
        """Until a fresh client gets an answer: an old channel may be backing off."""
        await self.client.close()
        self.client = Client(self.address)
        deadline = time.monotonic() + READY_SECONDS
        while True:
            try:
                await self.client.wait_ready(2)
                await self.client.list("agent")
                return
            except (ApiUnreachable, ApiError):
                if time.monotonic() > deadline or not self.api.running:
                    raise AssertionError(f"the API did not answer\n{self.logs()}") from None
                await asyncio.sleep(0.2)

    async def worker_ready(self, part: PartProcess) -> None:
        try:
            await part.wait_for_line("workers polling")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.logs()}") from None

    async def restart_api(self) -> None:
        self.api.start()
        await self.api_ready()

    async def restart_worker(self, part: PartProcess) -> None:
        part.start()
        await self.worker_ready(part)

    async def close(self) -> None:
        await self.client.close()
        for part in reversed(self.parts):
            await asyncio.to_thread(part.stop)

    def logs(self) -> str:
        """The tails of every process log, for failure messages."""
        sections = [(f"{p.name} ({p.log})", p.tail()) for p in self.parts]
        sections += [(name, tail()) for name, tail in self.other_logs]
        return "\n".join(f"\n----- {name} -----\n{text}" for name, text in sections)

    async def settled(self, execution_id: str) -> pb.Execution | None:
        return await settled_on(self.client, execution_id)


async def reachable(client: Client, call: Callable[[Client], Awaitable[T]]) -> T | None:
    """The call's answer, or None while the API is unreachable (being restarted)."""
    try:
        return await call(client)
    except ApiUnreachable:
        return None
    except ApiError as exc:
        if exc.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
            return None
        raise


async def settled_on(client: Client, execution_id: str) -> pb.Execution | None:
    """The execution once finished and, if it has a caller, once its callback is recorded."""
    found = await reachable(client, lambda c: c.execution(execution_id))
    if found is None or found.status.phase not in TERMINAL:
        return None
    callback = found.status.callback
    if callback.workflow_id and callback.outcome in UNSETTLED:
        return None
    return found


class Observed(Protocol):
    """What the calls and their checks need of a platform: a client, and finished executions."""

    client: Client

    async def settled(self, execution_id: str) -> pb.Execution | None: ...


class Through:
    """A platform seen through one client (one API replica of several)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def settled(self, execution_id: str) -> pb.Execution | None:
        return await settled_on(self.client, execution_id)


class started:
    """A started ProcessPlatform whose logs join a failure report; stopped on exit."""

    def __init__(
        self,
        request: pytest.FixtureRequest,
        temporal_address: str,
        root: Path,
        **options: str | int | None,
    ) -> None:
        self.platform = ProcessPlatform(temporal_address, root, **options)  # type: ignore[arg-type]
        request.node.stash.setdefault(LOGS_KEY, []).append(self.platform)

    async def __aenter__(self) -> ProcessPlatform:
        try:
            await self.platform.start()
        except BaseException:
            await self.platform.close()
            raise
        return self.platform

    async def __aexit__(self, *exc: object) -> None:
        await self.platform.close()
