"""`stigmer server` as a user runs it: ready, usable, refusing what is unsafe, clean to stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from stigmer.local.embedded import free_port
from tests.processes import EXIT_TIMEOUT, Platform, assert_all_gone, temporal_processes_for
from tests.support.cli import run_cli

pytestmark = pytest.mark.timeout(180)

SERVER = [sys.executable, "-m", "stigmer.cli.main", "server"]
AGENT = """apiVersion: stigmer.dev/v1
kind: Agent
metadata: {name: greeter}
spec:
  entrypoint: stigmer.agents.scripted:agent
"""


@pytest.fixture
def servers() -> Iterator[list[Platform]]:
    started: list[Platform] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(EXIT_TIMEOUT)


def stigmer(*args: str, address: str) -> subprocess.CompletedProcess[str]:
    return run_cli("--address", address, *args)


def health(address: str) -> int:
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        status: int = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=10).status
        return status


def test_server_runs_the_platform_and_stops_cleanly(
    tmp_path: Path, servers: list[Platform]
) -> None:
    server = Platform(tmp_path / "data", SERVER)
    servers.append(server)
    server.wait_ready()
    rows = server.summary_rows()
    address = f"127.0.0.1:{server.api_port}"
    assert f"API grpc://{address}" in rows
    assert f"Temporal UI http://127.0.0.1:{server.ui_port}" in rows
    assert health(address) == health_pb2.HealthCheckResponse.SERVING
    with urllib.request.urlopen(f"http://127.0.0.1:{server.ui_port}", timeout=10) as page:
        assert page.status == 200

    resource = tmp_path / "greeter.yaml"
    resource.write_text(AGENT)
    applied = stigmer("apply", "-f", str(resource), address=address)
    assert applied.returncode == 0, applied.stderr
    fetched = stigmer("get", "agent", "greeter", "-o", "json", address=address)
    assert fetched.returncode == 0, fetched.stderr
    assert json.loads(fetched.stdout)["spec"] == {"entrypoint": "stigmer.agents.scripted:agent"}
    ran = stigmer("agent", "run", "greeter", "hello", "-o", "json", address=address)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["status"]["output"] == "echo: hello"

    children = server.temporal_children()
    server.process.send_signal(signal.SIGTERM)
    assert server.wait_exit() == 0
    assert_all_gone(children)
    assert not temporal_processes_for(tmp_path / "data")


def test_a_busy_port_and_a_second_server_are_refused(
    tmp_path: Path, servers: list[Platform]
) -> None:
    first = Platform(tmp_path / "data", SERVER)
    servers.append(first)
    first.wait_ready()
    second = Platform(tmp_path / "data", SERVER)
    servers.append(second)
    assert second.wait_exit() == 1
    assert "another stigmer server" in second.stderr_text()
    busy = Platform(tmp_path / "other", SERVER, STIGMER_PORT=str(first.api_port))
    servers.append(busy)
    assert busy.wait_exit() == 1
    assert f"port {first.api_port} (API) is already in use" in busy.stderr_text()
    first.process.terminate()
    assert first.wait_exit() == 0


def test_a_public_bind_without_a_token_is_refused(tmp_path: Path) -> None:
    refused = subprocess.run(
        [*SERVER, "--host", "0.0.0.0", "--port", str(free_port()), "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert refused.returncode == 1
    assert "without a token" in refused.stderr
    assert not temporal_processes_for(tmp_path)


def test_invalid_settings_are_named_with_their_variable_and_value(tmp_path: Path) -> None:
    environment = {
        "STIGMER_ENGINE_HISTORY_BUDGET": "many",
        "STIGMER_RUNNER_HEARTBEAT_SECONDS": "-5",
        "STIGMER_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [*SERVER, "--no-workers"],
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "STIGMER_ENGINE_HISTORY_BUDGET, value 'many'" in done.stderr
    assert "STIGMER_RUNNER_HEARTBEAT_SECONDS, value '-5'): Input should be greater than 0" in (
        done.stderr
    )
    assert not list(tmp_path.iterdir())  # nothing was made
