"""The user token stays out of `ps` and is never a short one.

`stigmer server` and every client command read it from `STIGMER_API_TOKEN` or a
`--token-file`; `--token` on a command line still works but warns. A token shorter than 16
characters is refused, by the server before anything starts and by a client before it
sends anything, each naming the setting it came from and never echoing the token.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from stigmer.local.embedded import free_port
from stigmer.user_token import MIN_LENGTH, ON_COMMAND_LINE
from tests.processes import temporal_processes_for
from tests.security.platforms import CLI, ServedPlatform
from tests.support.cli import environment, run_cli

pytestmark = pytest.mark.timeout(240)

SHORT = "short-token-1"
WAIT = 60


def refused_server(data_dir: Path, *flags: str, **env: str) -> str:
    """What `stigmer server` said when it refused to start (nothing started)."""
    argv = [sys.executable, *CLI, "server", "--port", str(free_port()), "--data-dir"]
    ran = subprocess.run(
        [*argv, str(data_dir), *flags],
        env=environment(STIGMER_METRICS_PORT="0", STIGMER_CONSOLE_PORT="0", **env),
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert ran.returncode != 0, ran.stdout + ran.stderr
    assert not temporal_processes_for(data_dir), "nothing starts before the check"
    assert SHORT not in ran.stdout + ran.stderr
    return ran.stderr


def test_the_server_refuses_a_short_token_however_it_is_given(tmp_path: Path) -> None:
    short_file = tmp_path / "short-token"
    short_file.write_text(SHORT + "\n")
    for flags, env, named in (
        (("--token", SHORT), {}, "--token or STIGMER_API_TOKEN"),
        ((), {"STIGMER_API_TOKEN": SHORT}, "--token or STIGMER_API_TOKEN"),
        (("--token-file", str(short_file)), {}, "--token-file or STIGMER_API_TOKEN_FILE"),
        ((), {"STIGMER_API_TOKEN_FILE": str(short_file)}, "--token-file or STIGMER_API_TOKEN_FILE"),
    ):
        said = refused_server(tmp_path / "data", *flags, **env)
        assert f"the user token ({named}" in said, said
        assert (ON_COMMAND_LINE in said) == ("--token" in flags)
        assert f"is {len(SHORT)} characters long; it must have at least {MIN_LENGTH}" in said
    said = refused_server(tmp_path / "data", "--token-file", str(tmp_path / "missing"))
    assert f"cannot read the user token from {tmp_path / 'missing'}" in said


def test_a_client_given_a_short_token_is_told_and_sends_nothing() -> None:
    """No API listens at this address: the refusal comes before any connection."""
    nowhere = ("--address", f"127.0.0.1:{free_port()}")
    for ran in (
        run_cli(*nowhere, "--token", SHORT, "list"),
        run_cli(*nowhere, "list", STIGMER_API_TOKEN=SHORT),
    ):
        assert ran.returncode == 2, ran.stdout + ran.stderr
        assert "the user token (--token or STIGMER_API_TOKEN) is 13 characters long" in ran.stderr
        assert "no Stigmer API" not in ran.stderr and SHORT not in ran.stderr


@pytest.mark.temporal
def test_the_servers_token_file_keeps_the_token_out_of_ps(guarded_served: ServedPlatform) -> None:
    """The guarded server runs with `--token-file`: no command line on the machine shows
    its token, and clients use it from a file or the variable without a warning."""
    platform = guarded_served
    token = platform.user_token
    assert token
    server = platform.parts[0].process
    assert server is not None
    command = psutil.Process(server.pid).cmdline()
    assert "--token-file" in command and "server" in command
    shown = [
        process.info["cmdline"]
        for process in psutil.process_iter(["cmdline"])
        if token in " ".join(process.info["cmdline"] or [])
    ]
    assert shown == []

    token_file = platform.data_dir.parent / "user-token"
    address = ("--address", platform.loopback)
    for quiet in (
        run_cli(*address, "--token-file", str(token_file), "list", "-o", "json"),
        run_cli(*address, "list", "-o", "json", STIGMER_API_TOKEN_FILE=str(token_file)),
        run_cli(*address, "list", "-o", "json", STIGMER_API_TOKEN=token),
    ):
        assert quiet.returncode == 0, quiet.stderr
        assert ON_COMMAND_LINE not in quiet.stderr
    loud = run_cli(*address, "--token", token, "list", "-o", "json")
    assert loud.returncode == 0, loud.stderr
    assert ON_COMMAND_LINE in loud.stderr and token not in loud.stderr
    refused = run_cli(*address, "list")
    assert refused.returncode == 1 and "UNAUTHENTICATED" in refused.stderr
    both = run_cli(*address, "--token-file", str(token_file), "list", STIGMER_API_TOKEN=token)
    assert both.returncode == 2 and "the user token is given twice" in both.stderr
