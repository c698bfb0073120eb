"""The real parts tests run against: one Temporal dev server for the whole session, and
platforms (API + workers) on it, each with its own queue prefix and database."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import structlog

from stigmer.client import Client, WorkerClient
from stigmer.config import QUEUE_KINDS, Settings, load_settings
from stigmer.local.embedded import EmbeddedTemporal, free_port
from stigmer.observability.logs import configure_logging
from stigmer.observability.runtime import install_runtime
from stigmer.server.app import ApiServer
from stigmer.workers import Workers
from tests.support.postgres import SHARED_URL
from tests.support.spec import spec_path

POSTGRES_URL = SHARED_URL


@pytest.fixture(scope="session")
def spec_dir() -> Path:
    """The DSL specification checkout; a missing one fails the test that needs it."""
    return spec_path()


@pytest.fixture(scope="session")
def temporal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedTemporal]:
    """The session's Temporal dev server, on free loopback ports."""
    server = EmbeddedTemporal(
        tmp_path_factory.mktemp("temporal"), port=free_port(), ui_port=None, startup_timeout=90
    )
    server.start_sync()
    try:
        yield server
    finally:
        server.stop_sync()


@pytest.fixture(autouse=True)
def _session_temporal_survives(request: pytest.FixtureRequest) -> Iterator[None]:
    """Stop the session at once, with the reason, if the shared Temporal dies in a test.

    Every later test would fail on a refused connection instead, hiding the cause.
    """
    yield
    if "temporal_server" not in request.fixturenames:
        return
    server: EmbeddedTemporal = request.getfixturevalue("temporal_server")
    if not server.running:
        pytest.exit(
            f"the session's Temporal dev server exited with {server.returncode} during "
            f"{request.node.nodeid}; last lines of its log:\n{server.log_tail()}",
            returncode=1,
        )


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The production log pipeline (JSON lines, DEBUG) into a buffer, put back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer = io.StringIO()
    configure_logging(load_settings(log_format="json", log_level="DEBUG", metrics_port=0), buffer)
    try:
        yield buffer
    finally:
        install_runtime(metrics=False)
        structlog.reset_defaults()
        root.handlers[:] = handlers
        root.setLevel(level)


def platform_settings(temporal: EmbeddedTemporal, data_dir: Path, **extra: object) -> Settings:
    """Settings of a platform of its own on the session's Temporal."""
    port = free_port()
    values: dict[str, object] = {
        "data_dir": data_dir,
        "port": port,
        "address": f"127.0.0.1:{port}",
        "temporal_address": temporal.address,
        "queue_prefix": f"t{uuid.uuid4().hex[:8]}-",
        "metrics_port": 0,
    }
    values.update(extra)
    return load_settings(**values)


@dataclass
class Platform:
    settings: Settings
    api: ApiServer
    workers: Workers
    client: Client
    """A plain client, as the CLI or a user's program is."""
    worker: WorkerClient
    """The platform's own credential, for what only its workers may do."""


@pytest.fixture
async def platform(temporal_server: EmbeddedTemporal, tmp_path: Path) -> AsyncIterator[Platform]:
    """API and workers of all three queues, in this process, on a fresh SQLite store."""
    async with running_platform(temporal_server, tmp_path / "data") as found:
        yield found


class running_platform:
    def __init__(
        self,
        temporal: EmbeddedTemporal,
        data_dir: Path,
        queues: Sequence[str] = QUEUE_KINDS,
        **extra: object,
    ) -> None:
        self.settings = platform_settings(temporal, data_dir, **extra)
        self.queues = list(queues)

    async def __aenter__(self) -> Platform:
        self.api = ApiServer(self.settings)
        self.workers = Workers(self.settings, self.queues)
        await self.api.start()
        await self.workers.start()
        self.client = Client(self.settings.address)
        self.worker = WorkerClient.from_settings(self.settings)
        return Platform(self.settings, self.api, self.workers, self.client, self.worker)

    async def __aexit__(self, *exc: object) -> None:
        await self.client.close()
        await self.worker.close()
        await self.workers.stop()
        await self.api.stop()
