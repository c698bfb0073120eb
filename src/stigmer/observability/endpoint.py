"""The `/metrics` endpoint of a platform process, as a component the supervisor runs.

`stigmer server` and every `stigmer worker` serve one on `metrics_port` (0: none). It
exposes everything this process counts and, when the process's Temporal runtime buffers
metrics (see `observability.runtime`), the Temporal SDK's own.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from wsgiref.simple_server import WSGIServer

import structlog
from prometheus_client import REGISTRY, start_http_server

from stigmer.background import Background
from stigmer.config import Settings
from stigmer.errors import PlatformError
from stigmer.observability.runtime import TemporalMetricsBridge, temporal_metrics

log = structlog.get_logger("stigmer.observability")

DRAIN_SECONDS = 5.0


class MetricsEndpoint:
    name = "metrics"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.server: WSGIServer | None = None
        self.thread: threading.Thread | None = None
        self.bridge: TemporalMetricsBridge | None = None
        self._drain = Background("metrics-drain")

    @property
    def url(self) -> str:
        return f"http://{self.settings.metrics_host}:{self.settings.metrics_port}/metrics"

    def summary(self) -> Sequence[tuple[str, str]]:
        return [("Metrics", self.url)] if self.server is not None else []

    async def start(self) -> None:
        if not self.settings.metrics_port:
            return
        try:
            self.server, self.thread = start_http_server(
                self.settings.metrics_port, addr=self.settings.metrics_host
            )
        except OSError as exc:
            raise PlatformError(
                f"cannot serve metrics on {self.settings.metrics_host}:{self.settings.metrics_port}: "
                f"{exc.strerror}; choose another with --metrics-port or STIGMER_METRICS_PORT"
            ) from exc
        self.bridge = temporal_metrics()
        if self.bridge is not None:
            REGISTRY.register(self.bridge)
            self._drain.start(self._drain_often(self.bridge))
        log.info("metrics listening", url=self.url, temporal_sdk=self.bridge is not None)

    async def _drain_often(self, bridge: TemporalMetricsBridge) -> None:
        """Between scrapes too, so the Temporal core's buffer never overflows."""
        while True:
            await asyncio.sleep(DRAIN_SECONDS)
            await asyncio.to_thread(bridge.drain)

    async def stop(self) -> None:
        await self._drain.stop()
        if self.bridge is not None:
            REGISTRY.unregister(self.bridge)
            self.bridge = None
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        if self.thread is not None:
            await asyncio.to_thread(self.thread.join, 5)
            self.thread = None
