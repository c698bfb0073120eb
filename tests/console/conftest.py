"""A real console on a real platform (API and workers on the session's Temporal), and
Debian's Chromium driven by Playwright to look at it as a person would."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from stigmer.client import Client
from stigmer.console.server import ConsoleServer
from stigmer.local.embedded import EmbeddedTemporal, free_port
from tests.conftest import Platform, running_platform
from tests.handshake.helpers import SCRIPTED

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 30_000
"""The longest any page check waits for something to appear."""
TEMPORAL_UI = "http://127.0.0.1:8233"

expect.set_options(timeout=WAIT_MS)


@dataclass
class Console:
    platform: Platform
    url: str

    @property
    def client(self) -> Client:
        return self.platform.client


@contextlib.asynccontextmanager
async def serving_console(
    temporal: EmbeddedTemporal, data_dir: Path, **extra: object
) -> AsyncIterator[Console]:
    """`stigmer server`'s parts in this process: API, workers and the console beside them."""
    async with running_platform(temporal, data_dir, **extra) as platform:
        settings = platform.settings.model_copy(
            update={"console_port": free_port(), "temporal_ui_url": TEMPORAL_UI}
        )
        server = ConsoleServer(settings)
        await server.start()
        try:
            await platform.client.apply("agent", "scripted", SCRIPTED)
            yield Console(platform, server.url)
        finally:
            await server.stop()


@pytest.fixture
async def console(temporal_server: EmbeddedTemporal, tmp_path: Path) -> AsyncIterator[Console]:
    async with serving_console(temporal_server, tmp_path / "data") as found:
        yield found


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium; never a downloaded browser. Missing, the tests fail and say so."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium package "
            "(apt-get install -y chromium; .ci/run does it)",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        found = await playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield found
        finally:
            await found.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT_MS)
    opened = await context.new_page()
    try:
        yield opened
    finally:
        await context.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where screenshots go: `STIGMER_SCREENSHOTS` (the README's images) or a temp dir."""
    where = Path(os.environ.get("STIGMER_SCREENSHOTS") or tmp_path / "screenshots")
    where.mkdir(parents=True, exist_ok=True)
    return where
