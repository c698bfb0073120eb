"""Platform processes for tests: started on free ports, read line by line, stopped."""

from __future__ import annotations

import os
import queue
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import psutil

from stigmer.local.embedded import free_ports

READY_TIMEOUT = 60.0
EXIT_TIMEOUT = 30.0


class Platform:
    """One `stigmer server`-like child process on free ports, and what it printed."""

    def __init__(self, data_dir: Path, command: Sequence[str], **env: str) -> None:
        self.data_dir = data_dir
        self.api_port, self.temporal_port, self.ui_port = free_ports(3)
        child_env = {
            **os.environ,
            "STIGMER_DATA_DIR": str(data_dir),
            "STIGMER_PORT": str(self.api_port),
            "STIGMER_TEMPORAL_PORT": str(self.temporal_port),
            "STIGMER_TEMPORAL_UI_PORT": str(self.ui_port),
            "STIGMER_METRICS_PORT": "0",
            "STIGMER_CONSOLE_PORT": "0",
            **env,
        }
        self.process = subprocess.Popen(
            list(command),
            env=child_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        self.stdout: list[str] = []
        assert self.process.stdout is not None
        self._pump_thread = threading.Thread(
            target=self._pump, args=(self.process.stdout,), daemon=True
        )
        self._pump_thread.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line.rstrip())

    def wait_ready(self) -> None:
        """Return once the readiness summary is complete (its last row is the data dir)."""
        self.wait_for_line("Data")

    def wait_for_line(self, prefix: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None and not self._pump_thread.is_alive():
                    break
                continue
            self.stdout.append(line)
            if line.startswith(prefix):
                return
        raise AssertionError(f"no {prefix!r} line: {self.stdout} {self.stderr_text()}")

    def summary_rows(self) -> list[str]:
        """The summary's rows with the column padding squeezed to one space."""
        return [" ".join(line.split()) for line in self.stdout]

    def stderr_text(self) -> str:
        if self.process.poll() is None:
            return ""
        assert self.process.stderr is not None
        return self.process.stderr.read()

    def wait_exit(self) -> int:
        return self.process.wait(EXIT_TIMEOUT)

    def temporal_children(self) -> list[psutil.Process]:
        children = psutil.Process(self.process.pid).children(recursive=True)
        return [child for child in children if child.name() == "temporal"]


def temporal_processes_for(data_dir: Path) -> list[psutil.Process]:
    """Any ``temporal`` process whose command line names this test's data dir."""
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = process.info["cmdline"] or []
        if process.info["name"] == "temporal" and any(str(data_dir) in arg for arg in cmdline):
            found.append(process)
    return found


def assert_all_gone(processes: list[psutil.Process]) -> None:
    _, alive = psutil.wait_procs(processes, timeout=10)
    assert not alive, alive
