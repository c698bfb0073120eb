"""Checks that run before ``stigmer server`` starts anything, so failures are early and clear.

A half-started platform (Temporal up, API port taken, a second server writing the same
SQLite files) is harder to diagnose than a one-line refusal, so everything that can be
known up front is checked here.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from stigmer.config import Settings
from stigmer.errors import PlatformError

DATA_DIR_MODE = 0o700
DATA_SUBDIRS = ("temporal", "logs")
LOCK_FILE = "server.lock"
TEMPORAL_HOST = "127.0.0.1"


class PreflightError(PlatformError):
    """The platform cannot start; the message says why and what to change."""


@dataclass(frozen=True)
class PortUse:
    """A port the platform will listen on, and how the user can change it."""

    label: str
    host: str
    port: int
    flag: str
    env: str


class ProcessLock:
    """An exclusive ``flock`` on a file that records the holder's pid.

    ``flock`` is released by the kernel when the process dies, so a crashed server never
    leaves a stale lock behind; the pid in the file only serves the error message.
    """

    def __init__(self, path: Path, refusal: str) -> None:
        self.path = path
        self.refusal = refusal
        """What is refused, after "another stigmer server (pid N) ..."."""
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            holder = _read_pid(fd)
            os.close(fd)
            if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise PreflightError(f"cannot lock {self.path}: {err.strerror}") from err
            who = f"pid {holder}" if holder is not None else "unknown pid"
            raise PreflightError(f"another stigmer server ({who}) {self.refusal}") from err
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        """Unlock; the file stays so that a racing server never locks a deleted inode."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None


class DataDirLock(ProcessLock):
    """One server per data dir: ``<data_dir>/server.lock``."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir / LOCK_FILE, f"is using {data_dir}")
        self.data_dir = data_dir


def _read_pid(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode().strip())
    except (OSError, ValueError):
        return None


def prepare_data_dir(data_dir: Path) -> None:
    """Create the data dir and its subfolders as owner-only, tightening existing ones.

    The data dir holds Temporal's state (task tokens included) and the store, which are
    credentials in effect, so no other local user may read it.
    """
    for path in (data_dir, *(data_dir / name for name in DATA_SUBDIRS)):
        try:
            path.mkdir(mode=DATA_DIR_MODE, parents=True, exist_ok=True)
            if path.stat().st_mode & 0o777 != DATA_DIR_MODE:
                path.chmod(DATA_DIR_MODE)
        except OSError as err:
            raise PreflightError(f"cannot prepare data dir {path}: {err.strerror}") from err


def planned_ports(settings: Settings) -> list[PortUse]:
    """Every port this server will bind, given the settings; a port of 0 is turned off."""
    ports = [PortUse("API", settings.host, settings.port, "--port", "STIGMER_PORT")]
    if settings.console_port:
        ports.append(
            PortUse(
                "Console",
                settings.host,
                settings.console_port,
                "--console-port",
                "STIGMER_CONSOLE_PORT",
            )
        )
    if settings.embedded_temporal:
        ports.append(
            PortUse(
                "Temporal",
                TEMPORAL_HOST,
                settings.temporal_port,
                "--temporal-port",
                "STIGMER_TEMPORAL_PORT",
            )
        )
        if settings.temporal_ui_port:
            ports.append(
                PortUse(
                    "Temporal UI",
                    TEMPORAL_HOST,
                    settings.temporal_ui_port,
                    "--temporal-ui-port",
                    "STIGMER_TEMPORAL_UI_PORT",
                )
            )
    if settings.metrics_port:
        ports.append(
            PortUse(
                "Metrics",
                settings.metrics_host,
                settings.metrics_port,
                "--metrics-port",
                "STIGMER_METRICS_PORT",
            )
        )
    return ports


def check_ports_free(ports: list[PortUse]) -> None:
    """Fail on the first port that is taken, or assigned twice."""
    seen: dict[int, PortUse] = {}
    for use in ports:
        if use.port in seen:
            first = seen[use.port]
            raise PreflightError(
                f"port {use.port} is set for both {first.label} and {use.label}; "
                f"choose another with {use.flag} or {use.env}"
            )
        seen[use.port] = use
        if not port_is_free(use.host, use.port):
            raise PreflightError(
                f"port {use.port} ({use.label}) is already in use on {use.host}; "
                f"choose another with {use.flag} or {use.env}"
            )


def port_is_free(host: str, port: int) -> bool:
    """Whether a listener could bind ``host:port`` now.

    ``SO_REUSEADDR`` matches what the real servers set, so connections lingering in
    TIME_WAIT from a previous run do not count as busy.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def run_preflight(settings: Settings, *, owns_data_dir: bool = True) -> DataDirLock | None:
    """Prepare the data dir, take its lock, check the ports; the caller releases the lock.

    A process that keeps no state (`stigmer worker`) takes no lock and binds only its
    metrics port, so any number of them run side by side.
    """
    if not owns_data_dir:
        check_ports_free([use for use in planned_ports(settings) if use.label == "Metrics"])
        return None
    prepare_data_dir(settings.data_dir)
    lock = DataDirLock(settings.data_dir)
    lock.acquire()
    try:
        check_ports_free(planned_ports(settings))
    except BaseException:
        lock.release()
        raise
    return lock
