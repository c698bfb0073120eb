"""Each command loads only what it uses: the import set of a real `stigmer` process.

Start time is a benchmark's business (`benchmarks/cli_start.py`); here the modules a
command loads are checked, which is what decides it and does not depend on the machine.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.core import TyperGroup

from stigmer.cli.main import COMMANDS, build, modules_named
from stigmer.local.embedded import free_port
from tests.conftest import Platform
from tests.support.cli import TIMEOUT, environment

NEVER_FOR_HELP = (
    "sqlalchemy",
    "temporalio",
    "grpc",
    "google.protobuf",
    "pydantic",
    "opentelemetry",
    "ruamel",
    "stigmer.client",
    "stigmer.engine",
)
"""What `--help` has no use for: the API's transport and messages, the store, Temporal."""

NEVER_FOR_LIST = (
    "sqlalchemy",
    "temporalio",
    "pydantic",
    "opentelemetry",
    "ruamel",
    "stigmer.config",
    "stigmer.engine",
    "stigmer.store",
    "stigmer.server",
)
"""What listing over the API has no use for: settings, validation, the server's parts."""


def loaded(stderr: str) -> set[str]:
    """The modules `python -X importtime` reports, one per `import time:` line."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line and "self [us]" not in line
    }


def offending(modules: set[str], never: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in never))


STIGMER = Path(sys.executable).parent / "stigmer"
"""The installed command, as a user starts it."""


def importtime(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(STIGMER), *args],
        env=environment(PYTHONPROFILEIMPORTTIME="1"),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


@pytest.mark.parametrize(
    "args", [("--help",), ("run", "--help"), ("executions", "--help"), ("server", "--help")]
)
def test_help_loads_no_platform_part(args: tuple[str, ...]) -> None:
    done = importtime(*args)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Usage: stigmer" in done.stdout
    modules = loaded(done.stderr)
    assert "typer" in modules  # the report was read
    assert offending(modules, NEVER_FOR_HELP) == []


def test_a_failed_call_loads_the_client_only() -> None:
    nobody = f"127.0.0.1:{free_port()}"
    done = importtime("--address", nobody, "list")
    assert done.returncode == 2
    assert f"cannot reach the Stigmer API at {nobody}" in done.stderr
    modules = loaded(done.stderr)
    assert "stigmer.client" in modules
    assert offending(modules, NEVER_FOR_LIST) == []


async def test_list_loads_the_client_and_the_table_only(platform: Platform) -> None:
    await platform.client.apply(
        "agent", "scripted", {"entrypoint": "stigmer.agents.scripted:agent"}
    )
    done = await asyncio.to_thread(importtime, "--address", platform.settings.address, "list")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "scripted" in done.stdout
    modules = loaded(done.stderr)
    assert {"stigmer.client", "rich.table"} <= modules
    assert offending(modules, NEVER_FOR_LIST) == []


@pytest.mark.parametrize("module", list(COMMANDS))
def test_each_module_registers_the_commands_the_entry_point_expects(module: str) -> None:
    registered = typer.main.get_command(build([module]))
    assert isinstance(registered, TyperGroup)
    assert sorted(registered.commands) == sorted(COMMANDS[module])


def test_a_start_builds_the_modules_its_arguments_name() -> None:
    assert modules_named(["--address", "127.0.0.1:1", "list", "-o", "json"]) == ["definitions"]
    assert modules_named(["agent", "run", "scripted", "hi"]) == ["executions"]
    assert modules_named(["--help"]) == list(COMMANDS)
    assert modules_named(["lsit"]) == list(COMMANDS)  # click names the unknown command
