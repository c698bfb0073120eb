"""Servers a test starts: waiting for one, bounded and loud when it never listens, and
serving an HTTP handler on loopback."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], name: str) -> Iterator[str]:
    """Serve `handler` on a free loopback port in a thread; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
