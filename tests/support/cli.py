"""The `stigmer` command run as a user runs it: a process of its own."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

CLI = [sys.executable, "-m", "stigmer.cli.main"]
TIMEOUT = 120.0


def environment(**extra: str) -> dict[str, str]:
    """This environment without the test runner's own STIGMER_* settings, plus `extra`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("STIGMER_")}
    return {**clean, **extra}


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`stigmer ARGS`, to its end (bounded), with its output."""
    return subprocess.run(
        [*CLI, *args], env=environment(**env), capture_output=True, text=True, timeout=TIMEOUT
    )


async def run_cli_async(*args: str, **env: str) -> tuple[int, str, str]:
    """`stigmer ARGS` without blocking the event loop (a platform in this process may be
    serving it): exit code, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        *CLI,
        *args,
        env=environment(**env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), TIMEOUT)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()
