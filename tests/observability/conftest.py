"""A platform with its metrics endpoint, and the process-wide log and Temporal set-up put back."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families

from stigmer.local.embedded import EmbeddedTemporal, free_port
from stigmer.observability.endpoint import MetricsEndpoint
from stigmer.observability.logs import configure_logging
from stigmer.observability.runtime import install_runtime
from tests.conftest import Platform, platform_settings, running_platform

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@dataclass
class Observed:
    platform: Platform
    endpoint: MetricsEndpoint
    logs: io.StringIO

    async def scrape(self) -> str:
        async with httpx.AsyncClient() as http:
            response = await http.get(self.endpoint.url)
        response.raise_for_status()
        return response.text


def samples(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in found.items() if n == name and wanted <= set(ls))


@pytest.fixture
async def observed(temporal_server: EmbeddedTemporal, tmp_path: Path) -> AsyncIterator[Observed]:
    """API, workers and metrics endpoint in this process, logging JSON lines at DEBUG."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer = io.StringIO()
    extra: dict[str, object] = {
        "metrics_port": free_port(),
        "collect_interval": timedelta(seconds=0.3),
        "stuck_after": timedelta(seconds=3),
        "api_token": "obs-api-token-5e1b0c2d9a",
    }
    # Logging first: it installs the Temporal runtime whose metrics the endpoint bridges.
    configure_logging(
        platform_settings(temporal_server, tmp_path, log_format="json", log_level="DEBUG", **extra),
        buffer,
    )
    try:
        async with running_platform(temporal_server, tmp_path / "data", **extra) as found:
            endpoint = MetricsEndpoint(found.settings)
            await endpoint.start()
            try:
                yield Observed(found, endpoint, buffer)
            finally:
                await endpoint.stop()
    finally:
        install_runtime(metrics=False)
        structlog.reset_defaults()
        root.handlers[:] = handlers
        root.setLevel(level)
