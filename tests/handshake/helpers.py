"""Small builders shared by the handshake tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import Client
from stigmer.resources.values import to_json

SCRIPTED = {"entrypoint": "stigmer.agents.scripted:agent"}


def script(**directives: Any) -> str:
    """A message telling the scripted agent what to do."""
    return json.dumps(directives)


def document(*tasks: dict[str, Any], name: str = "test") -> dict[str, Any]:
    return {
        "document": {"dsl": "1.0.0", "namespace": "test", "name": name, "version": "1.0.0"},
        "do": list(tasks),
    }


def agent_task(name: str, message: str, agent: str = "scripted", **extra: Any) -> dict[str, Any]:
    return {name: {"call": "agent", "with": {"agent": agent, "message": message, **extra}}}


def output_of(execution: pb.Execution) -> Any:
    return to_json(execution.status.structured)


async def children(client: Client, parent_id: str) -> list[pb.Execution]:
    return list((await client.list_executions(parent_execution_id=parent_id)).executions)


async def eventually(
    check: Callable[[], Awaitable[bool]], *, seconds: float = 30, every: float = 0.2
) -> None:
    """Wait until `check()` holds; fail with a clear message after `seconds`."""
    for _ in range(int(seconds / every)):
        if await check():
            return
        await asyncio.sleep(every)
    raise AssertionError(f"condition not met within {seconds}s")


async def one_child(client: Client, parent_id: str, seconds: float = 30) -> pb.Execution:
    """The single execution a run started, once it exists."""

    async def exists() -> bool:
        return len(await children(client, parent_id)) >= 1

    await eventually(exists, seconds=seconds)
    found = await children(client, parent_id)
    assert len(found) == 1, f"expected one execution, found {[e.id for e in found]}"
    return found[0]
