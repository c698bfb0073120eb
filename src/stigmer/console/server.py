"""The console as a platform component: uvicorn serving the app inside the server's loop.

The supervisor owns the process's signals, so uvicorn's own signal capture is turned off,
and the listening socket is bound here first, so a busy port is a clear startup error
rather than uvicorn's `sys.exit` from inside a task.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator, Sequence

import structlog
import uvicorn

from stigmer.config import Settings
from stigmer.console.access import Access
from stigmer.console.app import create_app
from stigmer.console.live import Live
from stigmer.errors import PlatformError

log = structlog.get_logger("stigmer.console")

START_SECONDS = 10.0
STOP_GRACE_SECONDS = 3
"""Open pages are told to close their streams at once; this bounds the rest."""


class _InProcessServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """SIGINT and SIGTERM stay with the supervisor, which stops the console in turn."""
        yield


class ConsoleServer:
    """Serves the console on `settings.host:settings.console_port`; port 0: nothing.

    `settings.address` is where the console finds the API (the server passes its local
    address, as it does to its workers).
    """

    name = "console"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.tls = settings.tls_cert is not None and settings.tls_key is not None
        self._server: _InProcessServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._live: Live | None = None
        self._access: Access | None = None

    @property
    def url(self) -> str:
        host = f"[{self.settings.host}]" if ":" in self.settings.host else self.settings.host
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host}:{self.settings.console_port}"

    def summary(self) -> Sequence[tuple[str, str]]:
        return [("Console", self.url)] if self._server is not None else []

    async def start(self) -> None:
        if not self.settings.console_port:
            return
        listener = self._bind()
        self._access = Access.for_settings(self.settings)
        self._live = Live()
        app = create_app(self.settings, self._access, self._live)
        config = uvicorn.Config(
            app,
            log_config=None,  # the platform's logging, as configured for every part
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=STOP_GRACE_SECONDS,
            ssl_certfile=self.settings.tls_cert if self.tls else None,
            ssl_keyfile=self.settings.tls_key if self.tls else None,
        )
        server = _InProcessServer(config)
        self._server = server
        self._task = asyncio.create_task(server.serve(sockets=[listener]), name="console")
        async with asyncio.timeout(START_SECONDS):
            while not server.started:
                if self._task.done():
                    self._task.result()
                    raise PlatformError("the console stopped while starting")
                await asyncio.sleep(0.05)
        log.info("console listening", url=self.url, login_required=self._access.login_required)

    def _bind(self) -> socket.socket:
        host, port = self.settings.host, self.settings.console_port
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((host, port))
        except OSError as exc:
            listener.close()
            raise PlatformError(
                f"cannot serve the console on {host}:{port}: {exc.strerror}; "
                "choose another with --console-port or STIGMER_CONSOLE_PORT (0 turns it off)"
            ) from exc
        listener.listen(128)
        listener.setblocking(False)
        return listener

    async def stop(self) -> None:
        if self._live is not None:
            await self._live.close()
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            try:
                async with asyncio.timeout(STOP_GRACE_SECONDS * 2):
                    await asyncio.shield(self._task)
            except TimeoutError:
                self._task.cancel()
                await asyncio.wait({self._task})
        self._server = None
        self._task = None
        if self._access is not None:
            await self._access.close()
            self._access = None
        self._live = None
