"""Waiting for a server a test started: bounded, and loud when it never listens."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest


def until_listening(
    port: int, *, host: str = "127.0.0.1", seconds: float = 10.0, process: subprocess.Popen[bytes]
) -> None:
    """Return once `host:port` accepts connections; fail the test, saying why, if the
    server exits or does not listen within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"the server meant to listen on {host}:{port} exited with code "
                f"{process.returncode} before it listened",
                pytrace=False,
            )
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"nothing listened on {host}:{port} within {seconds:g} s", pytrace=False)
