"""``run_platform`` in a real child process: readiness, clean stops, and no leftovers."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from stigmer.local.embedded import EmbeddedTemporal, free_port
from tests.processes import EXIT_TIMEOUT, Platform, assert_all_gone, temporal_processes_for

pytestmark = pytest.mark.timeout(180)

CHILD = Path(__file__).with_name("platform_child.py")


@pytest.fixture
def platforms() -> Iterator[list[Platform]]:
    """Children started by a test; any still running at teardown are killed."""
    started: list[Platform] = []
    yield started
    for platform in started:
        if platform.process.poll() is None:
            platform.process.kill()
            platform.process.wait(EXIT_TIMEOUT)


def launch(platforms: list[Platform], data_dir: Path, **env: str) -> Platform:
    platform = Platform(data_dir, [sys.executable, str(CHILD)], **env)
    platforms.append(platform)
    return platform


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_everything_and_exits_zero(
    tmp_path: Path, platforms: list[Platform], signum: signal.Signals
) -> None:
    platform = launch(platforms, tmp_path)
    platform.wait_ready()
    # The known lines come first, in the documented order, then the others.
    assert platform.summary_rows() == [
        "stigmer is ready",
        f"API 127.0.0.1:{platform.api_port}",
        f"Temporal 127.0.0.1:{platform.temporal_port}",
        f"Temporal UI http://127.0.0.1:{platform.ui_port}",
        f"Echo 127.0.0.1:{platform.temporal_port}",
        f"Data {tmp_path}",
    ]

    children = platform.temporal_children()
    assert len(children) == 1

    platform.process.send_signal(signum)
    assert platform.wait_exit() == 0
    assert_all_gone(children)
    assert not temporal_processes_for(tmp_path)

    # Lock released and ports free: the same data dir starts again at once.
    again = launch(platforms, tmp_path)
    again.wait_ready()
    again.process.terminate()
    assert again.wait_exit() == 0


def test_kill_9_of_the_supervisor_takes_temporal_down(
    tmp_path: Path, platforms: list[Platform]
) -> None:
    platform = launch(platforms, tmp_path)
    platform.wait_ready()
    children = platform.temporal_children()
    assert len(children) == 1

    platform.process.kill()
    platform.process.wait(EXIT_TIMEOUT)
    assert_all_gone(children)
    assert not temporal_processes_for(tmp_path)


def test_component_that_fails_to_start_stops_the_rest(
    tmp_path: Path, platforms: list[Platform]
) -> None:
    platform = launch(platforms, tmp_path, CHILD_FAIL_START="1")
    assert platform.wait_exit() == 1
    assert "API failed to start: echo refused to start" in platform.stderr_text()
    assert not temporal_processes_for(tmp_path)


def test_signal_during_startup_stops_what_started(
    tmp_path: Path, platforms: list[Platform]
) -> None:
    platform = launch(platforms, tmp_path, CHILD_HANG_START="1")
    platform.wait_for_line("echo starting")
    children = platform.temporal_children()
    assert len(children) == 1
    platform.process.terminate()
    assert platform.wait_exit() == 0
    platform.wait_for_line("echo stopped")
    assert not any(line.startswith("stigmer is ready") for line in platform.stdout)
    assert_all_gone(children)


def test_second_server_on_same_data_dir_is_refused(
    tmp_path: Path, platforms: list[Platform]
) -> None:
    first = launch(platforms, tmp_path)
    first.wait_ready()
    second = launch(platforms, tmp_path)
    assert second.wait_exit() == 1
    expected = f"another stigmer server (pid {first.process.pid}) is using {tmp_path}"
    assert expected in " ".join(second.stderr_text().split())
    first.process.terminate()
    assert first.wait_exit() == 0


def test_temporal_dying_stops_the_platform(tmp_path: Path, platforms: list[Platform]) -> None:
    platform = launch(platforms, tmp_path)
    platform.wait_ready()
    (temporal,) = platform.temporal_children()
    temporal.kill()
    assert platform.wait_exit() == 1
    assert "embedded Temporal exited unexpectedly" in platform.stderr_text()


async def test_existing_cluster_is_used_instead_of_embedding(
    tmp_path: Path, platforms: list[Platform]
) -> None:
    cluster = EmbeddedTemporal(tmp_path / "cluster", port=free_port(), ui_port=None)
    await cluster.start()
    try:
        platform = launch(platforms, tmp_path / "data", STIGMER_TEMPORAL_ADDRESS=cluster.address)
        platform.wait_ready()
        rows = platform.summary_rows()
        assert f"Temporal {cluster.address} (namespace default)" in rows
        assert not any(row.startswith("Temporal UI") for row in rows)
        assert platform.temporal_children() == []
        platform.process.terminate()
        assert platform.wait_exit() == 0
    finally:
        await cluster.stop()


def test_unreachable_cluster_fails_clearly(tmp_path: Path, platforms: list[Platform]) -> None:
    address = f"127.0.0.1:{free_port()}"
    platform = launch(platforms, tmp_path, STIGMER_TEMPORAL_ADDRESS=address)
    assert platform.wait_exit() == 1
    assert f"Temporal is not reachable at {address}" in platform.stderr_text()
