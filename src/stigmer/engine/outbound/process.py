"""What `run: shell` and `run: script` share: running a process in an engine activity.

Running a process executes code the workflow's author wrote on the engine worker, so it is
off unless the workers are started with `STIGMER_ALLOW_RUN_PROCESSES=true`; otherwise the
task faults with a configuration error that says so (`stigmer validate` still accepts it).

The process gets `stdin` (a string; nothing when unset), `arguments` as its argv, and an
environment made of the worker's `PATH`, `HOME`, locale, `TMPDIR`, `TZ` and `USER` plus the
task's `environment`; nothing else of the worker's environment (its credentials, its
secrets) is passed on.

`return` shapes the output: `stdout` (the default) and `stderr` are the text of that
stream, `code` the exit code, `all` the spec's process result `{code, stdout, stderr}`,
`none` null. The spec defines no error type for a failed process: a non-zero exit faults
the task with the runtime error (its detail names the code and the end of stderr), except
with `return: code` or `all`, where the author asked for the code and gets it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from typing import Any

from stigmer.contract.problems import CONFIGURATION, RUNTIME, Fault
from stigmer.engine.expressions import to_text
from stigmer.engine.tasks.remote import Request

RETURN_MODES = ("stdout", "stderr", "code", "all", "none")
PASSED_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "USER")


def processes_off(what: str, request: Request) -> Fault:
    """The fault of a process the platform does not allow."""
    return request.fault(
        CONFIGURATION,
        f"{what} runs a process on the engine worker, which this platform does not allow; "
        "start the engine workers with STIGMER_ALLOW_RUN_PROCESSES=true to enable it",
        title="Processes are not allowed",
    )


async def run(
    argv: Sequence[str],
    request: Request,
    *,
    what: str,
    cwd: str | None = None,
) -> Any:
    """Run `argv` with the request's stdin and environment; the output `return` asks for."""
    args = request.args
    mode = str(args.get("return") or "stdout")
    if mode not in RETURN_MODES:
        raise request.fault(CONFIGURATION, f"'return' must be one of {', '.join(RETURN_MODES)}")
    stdin = args.get("stdin")
    environment = {name: os.environ[name] for name in PASSED_ENVIRONMENT if name in os.environ}
    given = args.get("environment") or {}
    if not isinstance(given, dict):
        raise request.fault(CONFIGURATION, "'environment' must map names to values")
    environment.update({str(k): to_text(v) for k, v in given.items() if v is not None})
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
            cwd=cwd,
        )
    except OSError as exc:
        raise request.fault(RUNTIME, f"cannot start {what}: {exc.strerror or exc}") from None
    try:
        data = None if stdin is None else to_text(stdin).encode()
        out, err = await process.communicate(data)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    code = process.returncode
    stdout = out.decode("utf-8", errors="replace")
    stderr = err.decode("utf-8", errors="replace")
    if code != 0 and mode not in ("code", "all"):
        tail = stderr.strip()[-500:]
        raise request.fault(
            RUNTIME,
            f"{what} exited with code {code}" + (f": {tail}" if tail else ""),
            title="Process failed",
        )
    if mode == "all":
        return {"code": code, "stdout": stdout, "stderr": stderr}
    return {"stdout": stdout, "stderr": stderr, "code": code, "none": None}[mode]


def arguments(request: Request) -> list[str]:
    """The request's `arguments` as argv strings."""
    given = request.args.get("arguments") or []
    if not isinstance(given, list):
        raise request.fault(CONFIGURATION, "'arguments' must be a list")
    return [to_text(item) for item in given]
