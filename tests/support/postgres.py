"""PostgreSQL for tests: a private database on the shared server, or a server of a test's
own, which the test may kill, stop and start again.

The machine's shared server on 127.0.0.1:5432 serves the store tests, each on a database
of its own (`private_database`); a fault test that crashes or stops its database must not
take that one down, so it runs a private cluster from Debian's binaries on a free port. PostgreSQL refuses to run as root: as root the
cluster runs as the `postgres` user. Killing it kills its whole process group, as a
crash of the machine's database would, and starting it again runs crash recovery.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from stigmer.local.embedded import free_port

SHARED_URL = os.environ.get(
    "STIGMER_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
"""The machine's shared server (trust auth), as a SQLAlchemy URL."""


def postgres_reachable(url: str = SHARED_URL) -> bool:
    parsed = make_url(url)
    try:
        with socket.create_connection((parsed.host or "127.0.0.1", parsed.port or 5432), timeout=1):
            return True
    except OSError:
        return False


def _asyncpg_dsn(url: str, database: str) -> str:
    """The same server as a SQLAlchemy URL, as a plain DSN naming another database."""
    return make_url(url).set(drivername="postgresql", database=database).render_as_string(False)


@contextlib.asynccontextmanager
async def private_database(url: str = SHARED_URL) -> AsyncIterator[str]:
    """The URL of an empty database on the shared server, dropped afterwards so runs never
    see each other's rows; the test is skipped when the server does not answer."""
    if not postgres_reachable(url):
        pytest.skip(f"PostgreSQL is not reachable at {make_url(url).host}:{make_url(url).port}")
    name = f"stigmer_test_{uuid.uuid4().hex[:12]}"
    maintenance = await asyncpg.connect(_asyncpg_dsn(url, "postgres"))
    try:
        await maintenance.execute(f'CREATE DATABASE "{name}"')
        yield make_url(url).set(database=name).render_as_string(False)
    finally:
        await maintenance.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await maintenance.close()


BIN_ROOT = Path("/usr/lib/postgresql")
READY_SECONDS = 60.0


def _binaries() -> Path:
    found = sorted(BIN_ROOT.glob("*/bin/postgres"))
    if not found:
        raise AssertionError(
            f"no PostgreSQL server binaries under {BIN_ROOT}: install Debian's postgresql"
        )
    return found[-1].parent


class PrivateCluster:
    def __init__(self) -> None:
        self.bin = _binaries()
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="stigmer-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        if self.as_postgres:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self._run(["initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        argv = self._argv(
            [
                "postgres",
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={self.root}",
            ]
        )
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [
                    str(self.bin / "pg_isready"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-U",
                    "postgres",
                ],
                capture_output=True,
                check=False,
            )
            if ready.returncode == 0:
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"the private PostgreSQL did not start:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL to the server and every backend: a crash, with no shutdown at all."""
        process = self.process
        assert process is not None and process.poll() is None, "not running"
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        self._wait_for_backends()

    def stop(self) -> None:
        """A fast shutdown, as an operator's restart would do."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        self._wait_for_backends()

    def remove(self) -> None:
        with contextlib.suppress(ProcessLookupError, AssertionError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _wait_for_backends(self) -> None:
        """Until no process of the old server holds its shared memory (start would refuse)."""
        pid_file = self.data / "postmaster.pid"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            alive = subprocess.run(
                ["pgrep", "-f", f"-D {self.data}"], capture_output=True, check=False
            )
            if alive.returncode != 0:
                break
            time.sleep(0.1)
        # A killed server leaves its lock files behind; a real restart after a crash
        # finds them stale and goes on, and so must this one.
        for stale in (pid_file, *self.root.glob(".s.PGSQL.*.lock")):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()

    def _argv(self, command: list[str]) -> list[str]:
        binary = [str(self.bin / command[0]), *command[1:]]
        return ["runuser", "-u", "postgres", "--", *binary] if self.as_postgres else binary

    def _run(self, command: list[str]) -> None:
        result = subprocess.run(self._argv(command), capture_output=True, check=False)
        if result.returncode != 0:
            raise AssertionError(
                f"{command[0]} failed: {result.stdout.decode()} {result.stderr.decode()}"
            )
