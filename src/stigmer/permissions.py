"""What a definition may make a worker do: which programs it may start, which files it may
read or write. The operator of each worker decides; by default a definition may do neither.

A definition is written by whoever may apply one, not by the operator of the machine it
runs on, and a process or a file read runs as the worker's user, next to its credential.
So every place that starts a process a definition names (an MCP stdio server of an agent
or of `call: mcp`, `run: shell`, the interpreter of `run: script`) asks `command`, and
every place that reads or writes a file a definition names (a `file://` document of
`call: openapi|grpc`, a script's `source`, the scripted agent's `mark` and `until`) asks
`file`. A refusal is a `permission` fault that names what was refused and the flag and
variable its operator would set; it is final, as retrying cannot change the answer.

Commands match by the program they start, not by their spelling: the command is found as
the process start would find it (a name on the `PATH` the process gets, a path relative
to its working directory), and so is each allowed entry (on the worker's own `PATH` and
directory); they match when both are the same file once every symbolic link is followed
and both are called by the same name, since a multi-call program (busybox) does what the
name it is called by says. The caller then starts the absolute path that was checked,
never a name looked up again. Files match when the file, once `..` and every symbolic
link are resolved, lies inside an allowed directory (resolved the same way); the caller
then uses that resolved path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from stigmer.contract.problems import PERMISSION, Fault, Problem

if TYPE_CHECKING:
    from stigmer.config import Settings

ANY_COMMAND = "*"
"""An allowed-process entry that allows any command (and so anything at all)."""
PROCESS_FLAG = "--allow-process"
PROCESS_VARIABLE = "STIGMER_ALLOW_PROCESSES"
FILES_FLAG = "--allow-files"
FILES_VARIABLE = "STIGMER_ALLOW_FILES"
TITLE = "Not permitted on this worker"


def process_advice(command: str) -> str:
    """How an operator allows `command` (for refusals and validation warnings)."""
    return (
        f"its operator allows it with `{PROCESS_FLAG} {command}` on `stigmer server` or "
        f"`stigmer worker`, or {PROCESS_VARIABLE}={command}"
    )


def files_advice(directory: str = "DIR") -> str:
    """How an operator allows reading the files under `directory`."""
    return (
        f"its operator allows a directory with `{FILES_FLAG} {directory}` on `stigmer server` "
        f"or `stigmer worker`, or {FILES_VARIABLE}={directory}"
    )


def refused(detail: str) -> Fault:
    """The fault of something the worker's operator did not allow."""
    return Fault(Problem.of(PERMISSION, detail, title=TITLE))


@dataclass(frozen=True)
class Permissions:
    """The operator's answer for one worker: allowed commands and readable directories."""

    processes: tuple[str, ...] = ()
    """Commands as the operator wrote them (names or paths); `*` allows any."""
    files: tuple[Path, ...] = ()
    """Directories whose files (at any depth) definitions may read, and write where a
    definition writes one (the scripted agent's `mark`)."""

    @classmethod
    def of(cls, settings: Settings) -> Permissions:
        return cls(tuple(settings.allow_processes), tuple(settings.allow_files))

    def command(
        self,
        command: str,
        *,
        what: str,
        cwd: str | None = None,
        search_path: str | None = None,
    ) -> str:
        """The absolute path to start for `command`, if the operator allows it.

        `cwd` is the working directory the process gets (default: the worker's) and
        `search_path` the `PATH` it gets (default: the worker's); `what` names, for the
        refusal, what wanted to start it ("'run: shell'", "the MCP server 'files'").
        """
        found = locate(command, cwd=cwd, search_path=search_path)
        if ANY_COMMAND in self.processes:
            return found or command  # one that is not there fails when it starts
        if found is not None:
            program = _program(found)
            for entry in self.processes:
                allowed = locate(entry)
                if allowed is not None and _program(allowed) == program:
                    return found
        allowed_now = ", ".join(self.processes) if self.processes else "none"
        raise refused(
            f"{what} starts {command!r}, which this worker does not allow (allowed commands: "
            f"{allowed_now}); {process_advice(command)}"
        )

    def file(self, path: str | Path, *, what: str) -> Path:
        """The resolved path of `path`, if it lies inside a directory the operator allows."""
        real = _real(path)
        if real is not None:
            for directory in self.files:
                root = _real(Path(directory).expanduser())
                if root is not None and real.is_relative_to(root):
                    return real
        allowed_now = ", ".join(str(d) for d in self.files) if self.files else "none"
        raise refused(
            f"{what} uses the file {str(path)!r}, outside the directories this worker allows "
            f"(allowed: {allowed_now}); {files_advice()}"
        )


def locate(command: str, *, cwd: str | None = None, search_path: str | None = None) -> str | None:
    """The absolute path a process start would run for `command`, or None if there is none.

    A command with a `/` is a path, relative to the working directory; any other name is
    looked up in each directory of `search_path` in turn (an empty entry or a relative
    one is relative to the working directory, as for `execvp`).
    """
    if not command or "\0" in command:
        return None
    try:
        base = os.path.realpath(cwd if cwd is not None else os.getcwd())
    except (OSError, ValueError):
        return None
    if "/" in command:
        candidate = os.path.join(base, command)
        return candidate if _executable(candidate) else None
    directories = search_path if search_path is not None else os.environ.get("PATH", os.defpath)
    for directory in directories.split(os.pathsep):
        candidate = os.path.join(base, directory or ".", command)
        if _executable(candidate):
            return candidate
    return None


def _executable(path: str) -> bool:
    try:
        return os.path.isfile(path) and os.access(path, os.X_OK)
    except ValueError:  # a NUL byte in a PATH entry
        return False


def _program(path: str) -> tuple[str, str]:
    """What a process started from `path` runs: the file itself, and the name it is called by."""
    return os.path.realpath(path), os.path.basename(path)


def _real(path: str | Path) -> Path | None:
    """`path` with `..` and every symbolic link resolved, relative ones against the
    worker's directory; None for a path no file can have (a NUL byte)."""
    try:
        return Path(os.path.realpath(path))
    except (OSError, ValueError):
        return None
