"""The offline model (`model: test`) and MCP servers over stdio and HTTP, end to end."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.local.embedded import EmbeddedTemporal, free_port, terminate
from stigmer.resources.values import to_json
from tests.conftest import Platform, running_platform
from tests.handshake.helpers import script

NOTES_SERVER = Path(__file__).with_name("notes_server.py")


async def test_the_offline_model_plans_with_todos_and_answers(platform: Platform) -> None:
    spec = {"model": "test", "instructions": "Work it out.", "tools": ["write_todos"]}
    await platform.client.apply("agent", "offline", spec)
    message = script(todos=["find sources", "take notes"], steps=2, output="notes on tides")
    created = await platform.client.run_agent("offline", message)
    done = await platform.client.wait(created.execution.id)

    assert done.status.phase == pb.COMPLETED, done.status.error
    assert done.status.output == "notes on tides"
    roles = [(m.role, m.tool_name) for m in done.status.messages]
    assert roles[0] == ("user", "")
    assert roles.count(("tool_call", "write_todos")) == 4  # plan, two steps, all done
    assert roles.count(("tool_result", "write_todos")) == 4
    assert [m.content for m in done.status.messages if m.content.startswith("step ")] == [
        "step 1 of 2",
        "step 2 of 2",
    ]
    assert [(t.content, t.status) for t in done.status.todos] == [
        ("find sources", "completed"),
        ("take notes", "completed"),
    ]
    assert done.status.usage.requests == 5


async def test_the_offline_model_gives_a_structured_result(platform: Platform) -> None:
    schema = {
        "type": "object",
        "properties": {"title": {"type": "string"}, "score": {"type": "integer"}},
        "required": ["title", "score"],
    }
    await platform.client.apply("agent", "rater", {"model": "test", "output_schema": schema})
    given = await platform.client.run_agent("rater", script(structured={"title": "t", "score": 3}))
    made = await platform.client.run_agent("rater", "rate this")
    given_done = await platform.client.wait(given.execution.id)
    made_done = await platform.client.wait(made.execution.id)

    assert to_json(given_done.status.structured) == {"title": "t", "score": 3}
    found = to_json(made_done.status.structured)
    assert made_done.status.phase == pb.COMPLETED, made_done.status.error
    assert isinstance(found["title"], str) and isinstance(found["score"], int)


@pytest.fixture
def notes_over_http() -> Iterator[str]:
    """The notes server over streamable HTTP on a loopback port; its URL once it listens."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(NOTES_SERVER), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):  # the server takes a moment to listen
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        terminate(process, grace=10)


async def note_through(platform: Platform, agent: str, server: dict[str, Any]) -> pb.Execution:
    """Run `agent` with the MCP `server`, told to call `add_note` once."""
    spec = {"model": "test", "tools": ["write_todos", {"mcp": server}]}
    await platform.client.apply("agent", agent, spec)
    message = script(tool_args={"add_note": {"text": "tides follow the moon"}})
    created = await platform.client.run_agent(agent, message)
    done = await platform.client.wait(created.execution.id)
    assert done.status.phase == pb.COMPLETED, done.status.error
    calls = [m for m in done.status.messages if m.tool_name == "add_note"]
    assert [m.role for m in calls] == ["tool_call", "tool_result"]
    assert to_json(calls[0].data) == {"text": "tides follow the moon"}
    assert not [m for m in done.status.messages if m.tool_name == "erase_everything"]
    return done


async def test_an_agent_calls_an_allowed_tool_of_a_stdio_mcp_server(
    temporal_server: EmbeddedTemporal, tmp_path: Path
) -> None:
    server = {
        "name": "notes",
        "command": sys.executable,
        "args": [str(NOTES_SERVER)],
        "env": {"NOTES_SHELF": "blue"},
        "allow": ["add_note"],
    }
    # A runner starts only the commands its operator allows: here, this Python.
    async with running_platform(
        temporal_server, tmp_path / "data", allow_processes=[sys.executable]
    ) as platform:
        done = await note_through(platform, "note-taker", server)
    assert "add_note: noted (1 notes, shelf blue)" in done.status.output


async def test_an_agent_calls_a_tool_over_streamable_http_with_headers(
    platform: Platform, notes_over_http: str
) -> None:
    server = {
        "name": "notes",
        "url": notes_over_http,
        "headers": {"x-notes-shelf": "green"},
        "allow": ["add_note"],
    }
    done = await note_through(platform, "http-note-taker", server)
    assert "add_note: noted (1 notes, shelf green)" in done.status.output
