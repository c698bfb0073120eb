"""Preflight: one server per data dir, free ports, an owner-only data dir."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from stigmer.config import Settings, load_settings
from stigmer.local.embedded import free_port, free_ports
from stigmer.local.preflight import (
    DataDirLock,
    PreflightError,
    prepare_data_dir,
    run_preflight,
)


def settings_for(data_dir: Path, **extra: object) -> Settings:
    api, temporal, ui, metrics, console = free_ports(5)
    values: dict[str, object] = {
        "data_dir": data_dir,
        "port": api,
        "temporal_port": temporal,
        "temporal_ui_port": ui,
        "metrics_port": metrics,
        "console_port": console,
    }
    values.update(extra)
    return load_settings(**values)


@pytest.fixture
def listener() -> Iterator[int]:
    """A port something else is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_second_server_on_same_data_dir_fails(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data")
    lock = run_preflight(settings)
    try:
        with pytest.raises(PreflightError) as caught:
            run_preflight(settings)
        assert str(caught.value) == (
            f"another stigmer server (pid {os.getpid()}) is using {settings.data_dir}"
        )
    finally:
        lock.release()
    run_preflight(settings).release()


def test_lock_file_records_the_pid(tmp_path: Path) -> None:
    prepare_data_dir(tmp_path)
    lock = DataDirLock(tmp_path)
    lock.acquire()
    try:
        assert lock.held
        assert (tmp_path / "server.lock").read_text().strip() == str(os.getpid())
        assert mode(tmp_path / "server.lock") == 0o600
    finally:
        lock.release()
    assert not lock.held


@pytest.mark.parametrize(
    ("field", "label", "flag", "env"),
    [
        ("temporal_port", "Temporal", "--temporal-port", "STIGMER_TEMPORAL_PORT"),
        ("temporal_ui_port", "Temporal UI", "--temporal-ui-port", "STIGMER_TEMPORAL_UI_PORT"),
        ("port", "API", "--port", "STIGMER_PORT"),
        ("metrics_port", "Metrics", "--metrics-port", "STIGMER_METRICS_PORT"),
        ("console_port", "Console", "--console-port", "STIGMER_CONSOLE_PORT"),
    ],
)
def test_busy_port_fails_and_names_the_setting(
    tmp_path: Path, listener: int, field: str, label: str, flag: str, env: str
) -> None:
    settings = settings_for(tmp_path, **{field: listener})
    with pytest.raises(PreflightError) as caught:
        run_preflight(settings)
    assert str(caught.value) == (
        f"port {listener} ({label}) is already in use on 127.0.0.1; "
        f"choose another with {flag} or {env}"
    )
    # The failed preflight released the lock.
    run_preflight(settings_for(tmp_path)).release()


def test_same_port_twice_fails(tmp_path: Path) -> None:
    port = free_port()
    settings = settings_for(tmp_path, port=port, temporal_ui_port=port)
    with pytest.raises(PreflightError, match=f"port {port} is set for both API and Temporal UI"):
        run_preflight(settings)


def test_ports_not_bound_are_not_checked(tmp_path: Path, listener: int) -> None:
    external = settings_for(
        tmp_path,
        temporal_address="127.0.0.1:7233",
        temporal_port=listener,
        temporal_ui_port=listener,
        metrics_port=0,
    )
    run_preflight(external).release()
    headless = settings_for(tmp_path, temporal_ui_port=0, metrics_port=0, console_port=0)
    run_preflight(headless).release()


def test_data_dir_is_created_owner_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / "data"
    run_preflight(settings_for(data_dir)).release()
    for path in (data_dir, data_dir / "temporal", data_dir / "logs"):
        assert mode(path) == 0o700, path


def test_existing_data_dir_is_tightened(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    (data_dir / "logs").mkdir(parents=True)
    data_dir.chmod(0o755)
    (data_dir / "logs").chmod(0o777)
    run_preflight(settings_for(data_dir)).release()
    assert mode(data_dir) == 0o700
    assert mode(data_dir / "logs") == 0o700
