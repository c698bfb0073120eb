"""A deterministic offline agent for demos and tests, told what to do by its message.

Use it as `entrypoint: stigmer.agents.scripted:agent`. A message that is a JSON object
directs it: `sleep` (seconds), `todos` (list of strings), `steps` (progress messages),
`fail` (an error message), `output` (final text, `repeat` times over), `structured` (a
result object), `echo` of the rest. Any other message is answered with `echo: <message>`.

Two directives let a test or a demo drive it from outside: `mark` (a file it appends one
line to each time it starts, so runs can be counted across processes) and `until` (a
file it waits for before it ends, up to `until_seconds`, default 600). The `mark` file
must lie in a directory the runner's operator allows (`--allow-files`,
`stigmer.permissions`), or the run fails with the `permission` error before it does
anything; the `until` file is only waited for, never opened.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from stigmer.agents.context import AgentContext

UNTIL_EVERY = 0.2


async def _until(path: Path, seconds: float) -> None:
    """Wait for `path` to exist, for at most `seconds`."""
    for _ in range(max(1, int(seconds / UNTIL_EVERY))):
        if await asyncio.to_thread(path.exists):
            return
        await asyncio.sleep(UNTIL_EVERY)


def _mark(path: Path, line: str) -> None:
    with path.open("a") as marks:
        marks.write(line + "\n")


class ScriptedFailure(RuntimeError):
    """The failure the message asked for."""


async def agent(message: str, ctx: AgentContext) -> str | dict[str, Any]:
    try:
        script = json.loads(message)
    except json.JSONDecodeError:
        script = None
    if not isinstance(script, dict):
        await ctx.message(f"echo: {message}")
        return f"echo: {message}"
    if "mark" in script:
        mark = ctx.permissions.file(str(script["mark"]), what="the scripted agent's 'mark'")
        await asyncio.to_thread(_mark, mark, f"{ctx.execution_id} {ctx.attempt}")
    todos = [str(item) for item in script.get("todos", [])]
    if todos:
        await ctx.todos([{"content": item, "status": "pending"} for item in todos])
    steps = int(script.get("steps", 0))
    sleep = float(script.get("sleep", 0))
    for step in range(steps):
        await ctx.message(f"step {step + 1} of {steps}")
        await asyncio.sleep(sleep / max(steps, 1))
    if not steps and sleep:
        await asyncio.sleep(sleep)
    if "until" in script:
        await _until(Path(str(script["until"])), float(script.get("until_seconds", 600)))
    if todos:
        await ctx.todos([{"content": item, "status": "completed"} for item in todos])
    if "fail" in script:
        raise ScriptedFailure(str(script["fail"]))
    if isinstance(script.get("structured"), dict):
        return dict(script["structured"])
    output = str(script.get("output", f"echo: {message}")) * int(script.get("repeat", 1))
    await ctx.message(output)
    return output
