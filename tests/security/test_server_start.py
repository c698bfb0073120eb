"""`stigmer server` off loopback, as a real process: it refuses to start unprotected (no
user token, or an empty one; plaintext without the explicit opt-in), starts with the
opt-in, and serves TLS that clients reach with `--tls-ca`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from stigmer.local.embedded import EmbeddedTemporal, free_port
from tests.faults.processes import PartProcess
from tests.processes import temporal_processes_for
from tests.security.platforms import CLI, outside_host
from tests.support.tls import self_signed

pytestmark = pytest.mark.timeout(240)

USER_TOKEN = "start-test-user-token-7d1c"
WAIT = 60


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STIGMER_")}
    return {**env, "STIGMER_METRICS_PORT": "0", "STIGMER_CONSOLE_PORT": "0", **extra}


def server(data_dir: Path, *flags: str) -> list[str]:
    argv = [sys.executable, *CLI, "server", "--host", "0.0.0.0", "--port", str(free_port())]
    return [*argv, "--data-dir", str(data_dir), *flags]


def refused(data_dir: Path, *flags: str, **env: str) -> str:
    """What `stigmer server` said when it refused to start (exit 1, nothing started)."""
    ran = subprocess.run(
        server(data_dir, *flags),
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert not temporal_processes_for(data_dir), "nothing starts before the check"
    return ran.stderr


def cli(address: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *CLI, "--address", address, *args],
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=WAIT,
    )


@pytest.fixture
def processes() -> Iterator[list[PartProcess]]:
    started: list[PartProcess] = []
    yield started
    for part in started:
        part.stop()


@pytest.mark.parametrize(
    ("flags", "env"),
    [
        pytest.param((), {}, id="no token"),
        pytest.param((), {"STIGMER_API_TOKEN": ""}, id="an empty token variable"),
        pytest.param((), {"STIGMER_API_TOKEN": "   "}, id="a blank token variable"),
        pytest.param(("--token", ""), {}, id="an empty --token"),
    ],
)
def test_off_loopback_it_refuses_to_start_without_a_user_token(
    tmp_path: Path, flags: tuple[str, ...], env: dict[str, str]
) -> None:
    said = refused(tmp_path / "data", *flags, **env)
    assert "would listen on 0.0.0.0, beyond this machine, without a token" in said


def test_off_loopback_plaintext_needs_the_explicit_opt_in(tmp_path: Path) -> None:
    for opt_out in ({}, {"STIGMER_ALLOW_PLAINTEXT": "false"}):
        said = refused(tmp_path / "data", STIGMER_API_TOKEN=USER_TOKEN, **opt_out)
        assert "would serve plaintext on 0.0.0.0" in said and "--allow-plaintext" in said


async def test_with_the_opt_in_it_starts_and_serves_plaintext_and_metrics_stay_local(
    tmp_path: Path, temporal_server: EmbeddedTemporal, processes: list[PartProcess]
) -> None:
    metrics = free_port("0.0.0.0")
    argv = server(
        tmp_path / "data",
        *("--no-workers", "--temporal-address", temporal_server.address),
        *("--metrics-port", str(metrics)),
    )
    port = argv[argv.index("--port") + 1]
    env = environment(STIGMER_API_TOKEN=USER_TOKEN, STIGMER_ALLOW_PLAINTEXT="true")
    part = PartProcess("server", argv[1:], env, tmp_path / "server.log")
    processes.append(part)
    part.start()
    await part.wait_for_line("Data ", WAIT)
    host = outside_host()
    address = f"{host or '127.0.0.1'}:{port}"
    listed = cli(address, "--token", USER_TOKEN, "--allow-plaintext", "list", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    anonymous = cli(address, "--allow-plaintext", "list")
    assert anonymous.returncode != 0 and "bearer token" in anonymous.stderr
    # The API is public, its metrics are not (no --metrics-host was given).
    async with httpx.AsyncClient(timeout=WAIT) as http:
        assert (await http.get(f"http://127.0.0.1:{metrics}/metrics")).status_code == 200
        if host is not None:
            with pytest.raises(httpx.ConnectError):
                await http.get(f"http://{host}:{metrics}/metrics")


async def test_with_a_certificate_it_serves_tls_and_clients_trust_it_with_tls_ca(
    tmp_path: Path, temporal_server: EmbeddedTemporal, processes: list[PartProcess]
) -> None:
    host = outside_host() or "127.0.0.1"
    cert, key = self_signed(tmp_path, *([host] if host != "127.0.0.1" else []))
    argv = server(
        tmp_path / "data",
        *("--tls-cert", str(cert), "--tls-key", str(key), "--no-workers"),
        *("--temporal-address", temporal_server.address),
    )
    port = argv[argv.index("--port") + 1]
    part = PartProcess(
        "server", argv[1:], environment(STIGMER_API_TOKEN=USER_TOKEN), tmp_path / "server.log"
    )
    processes.append(part)
    part.start()
    await part.wait_for_line("Data ", WAIT)
    assert f"API grpcs://0.0.0.0:{port}" in " ".join(part.tail().split())
    address = f"{host}:{port}"
    trusted = cli(address, "--token", USER_TOKEN, "--tls-ca", str(cert), "list", "-o", "json")
    assert trusted.returncode == 0, trusted.stderr
    by_variable = cli(address, "list", STIGMER_API_TOKEN=USER_TOKEN, STIGMER_TLS_CA=str(cert))
    assert by_variable.returncode == 0, by_variable.stderr
    # Plaintext to a TLS port gets no answer (the opt-in only allows trying).
    plaintext = cli(address, "--token", USER_TOKEN, "--allow-plaintext", "list")
    assert plaintext.returncode != 0
    # A CA that did not sign the certificate is not trusted.
    (tmp_path / "stranger").mkdir()
    stranger, _ = self_signed(tmp_path / "stranger")
    untrusted = cli(address, "--token", USER_TOKEN, "--tls-ca", str(stranger), "list")
    assert untrusted.returncode != 0
