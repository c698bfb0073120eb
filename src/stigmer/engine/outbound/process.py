"""What `run: shell` and `run: script` share: running a process in an engine activity.

Running a process executes code the workflow's author wrote on the engine worker, so each
task first asks the worker's permissions (`stigmer.permissions`) for the program it starts
(`/bin/sh`, the script's interpreter) and starts the path they answer; a program the
operator did not allow faults the task with the `permission` error naming the flag to set
(`stigmer validate` accepts the document, and warns).

The process gets `stdin` (a string; nothing when unset), `arguments` as its argv, and an
environment made of the worker's `PATH`, `HOME`, locale, `TMPDIR`, `TZ` and `USER` plus the
task's `environment`; nothing else of the worker's environment (its credentials, its
secrets) is passed on.

`return` shapes the output: `stdout` (the default) and `stderr` are the text of that
stream, `code` the exit code, `all` the spec's process result `{code, stdout, stderr}`,
`none` null. With `stderr`, `code` or `all` the author asked for what a failing process
says, so a non-zero exit is that result, not a fault. With `stdout` or `none` the output
cannot tell that the process failed, so a non-zero exit faults the task with the runtime
error (the spec defines no error type for it; the detail names the code and the end of
stderr).

With `await: false` the process is started and not waited for (`start`): its output is
discarded, and the task outputs its transformed input, as the spec says.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from typing import Any

from stigmer.contract.problems import CONFIGURATION, RUNTIME
from stigmer.engine.expressions import to_text
from stigmer.engine.outbound.remote import Request

RETURN_MODES = ("stdout", "stderr", "code", "all", "none")
PASSED_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "USER")


async def run(
    argv: Sequence[str],
    request: Request,
    *,
    what: str,
    cwd: str | None = None,
) -> Any:
    """Run `argv` with the request's stdin and environment; the output `return` asks for."""
    mode = _mode(request)
    stdin = _stdin(request)
    process = await _spawn(argv, request, what=what, cwd=cwd, stdin=stdin, capture=True)
    try:
        out, err = await process.communicate(stdin)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    code = process.returncode
    stdout = out.decode("utf-8", errors="replace")
    stderr = err.decode("utf-8", errors="replace")
    if code != 0 and mode in ("stdout", "none"):
        tail = request.redactor.text(stderr).strip()[-500:]  # cut after: no half secret
        raise request.fault(
            RUNTIME,
            f"{what} exited with code {code}" + (f": {tail}" if tail else ""),
            title="Process failed",
        )
    if mode == "all":
        return {"code": code, "stdout": stdout, "stderr": stderr}
    return {"stdout": stdout, "stderr": stderr, "code": code, "none": None}[mode]


_DETACHED: set[asyncio.Task[None]] = set()
"""Processes started without waiting: each is fed its stdin and reaped when it ends."""


async def start(
    argv: Sequence[str],
    request: Request,
    *,
    what: str,
    cwd: str | None = None,
    cleanup: Callable[[], None] | None = None,
) -> None:
    """Start `argv` and return at once (`await: false`); `cleanup` runs when it ends."""
    stdin = _stdin(request)
    try:
        process = await _spawn(argv, request, what=what, cwd=cwd, stdin=stdin, capture=False)
    except BaseException:
        if cleanup is not None:
            cleanup()
        raise
    reaper = asyncio.create_task(_reap(process, stdin, cleanup))
    _DETACHED.add(reaper)
    reaper.add_done_callback(_DETACHED.discard)


async def _reap(
    process: asyncio.subprocess.Process, stdin: bytes | None, cleanup: Callable[[], None] | None
) -> None:
    try:
        if stdin is not None and process.stdin is not None:
            try:
                process.stdin.write(stdin)
                await process.stdin.drain()
            except (BrokenPipeError, ConnectionResetError):
                pass  # it did not read its input: that is its own business
            process.stdin.close()
        await process.wait()
    finally:
        if cleanup is not None:
            cleanup()


async def _spawn(
    argv: Sequence[str],
    request: Request,
    *,
    what: str,
    cwd: str | None,
    stdin: bytes | None,
    capture: bool,
) -> asyncio.subprocess.Process:
    output = asyncio.subprocess.PIPE if capture else asyncio.subprocess.DEVNULL
    try:
        return await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            env=_environment(request),
            cwd=cwd,
            start_new_session=not capture,
        )
    except OSError as exc:
        raise request.fault(RUNTIME, f"cannot start {what}: {exc.strerror or exc}") from None


def _mode(request: Request) -> str:
    mode = str(request.args.get("return") or "stdout")
    if mode not in RETURN_MODES:
        raise request.fault(CONFIGURATION, f"'return' must be one of {', '.join(RETURN_MODES)}")
    return mode


def _stdin(request: Request) -> bytes | None:
    stdin = request.args.get("stdin")
    return None if stdin is None else to_text(stdin).encode()


def _environment(request: Request) -> dict[str, str]:
    environment = {name: os.environ[name] for name in PASSED_ENVIRONMENT if name in os.environ}
    given = request.args.get("environment") or {}
    if not isinstance(given, dict):
        raise request.fault(CONFIGURATION, "'environment' must map names to values")
    environment.update({str(k): to_text(v) for k, v in given.items() if v is not None})
    return environment


def arguments(request: Request) -> list[str]:
    """The request's `arguments` as argv strings."""
    given = request.args.get("arguments") or []
    if not isinstance(given, list):
        raise request.fault(CONFIGURATION, "'arguments' must be a list")
    return [to_text(item) for item in given]
