"""`stigmer server --console-port` as a user runs it: the console is served, or turned off."""

from __future__ import annotations

import signal
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from stigmer.local.embedded import free_port
from tests.processes import EXIT_TIMEOUT, Platform

pytestmark = pytest.mark.timeout(180)

SERVER = [sys.executable, "-m", "stigmer.cli.main", "server"]


@pytest.fixture
def servers() -> Iterator[list[Platform]]:
    started: list[Platform] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(EXIT_TIMEOUT)


def test_the_server_serves_the_console_on_its_port(tmp_path: Path, servers: list[Platform]) -> None:
    port = free_port()
    server = Platform(tmp_path / "data", [*SERVER, "--console-port", str(port)])
    servers.append(server)
    server.wait_ready()
    rows = server.summary_rows()
    assert f"Console http://127.0.0.1:{port}" in rows
    assert rows.index(f"Console http://127.0.0.1:{port}") < rows.index(
        f"Temporal UI http://127.0.0.1:{server.ui_port}"
    )
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/executions", timeout=10) as page:
        assert page.status == 200
        assert "No executions yet" in page.read().decode()
    server.process.send_signal(signal.SIGTERM)
    assert server.wait_exit() == 0


def test_console_port_zero_turns_it_off(tmp_path: Path, servers: list[Platform]) -> None:
    server = Platform(tmp_path / "data", [*SERVER, "--console-port", "0"], STIGMER_CONSOLE_PORT="1")
    servers.append(server)
    server.wait_ready()
    assert not [row for row in server.summary_rows() if row.startswith("Console")]
    server.process.send_signal(signal.SIGTERM)
    assert server.wait_exit() == 0
