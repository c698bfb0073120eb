"""A deterministic offline agent for demos and tests, told what to do by its message.

Use it as `entrypoint: stigmer.agents.scripted:agent`. A message that is a JSON object
directs it: `sleep` (seconds), `todos` (list of strings), `steps` (progress messages),
`fail` (an error message), `output` (final text), `structured` (a result object), `echo`
of the rest. Any other message is answered with `echo: <message>`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from stigmer.agents.context import AgentContext


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
    if todos:
        await ctx.todos([{"content": item, "status": "completed"} for item in todos])
    if "fail" in script:
        raise ScriptedFailure(str(script["fail"]))
    if isinstance(script.get("structured"), dict):
        return dict(script["structured"])
    output = str(script.get("output", f"echo: {message}"))
    await ctx.message(output)
    return output
