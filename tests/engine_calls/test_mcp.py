"""`call: mcp` against the test MCP server, over stdio and streamable HTTP."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from stigmer.contract.problems import PERMISSION
from stigmer.local.embedded import free_port
from tests.support.engine import Engine, document
from tests.support.listening import until_listening

pytestmark = pytest.mark.temporal

SERVER = Path(__file__).parent / "mcp_server.py"
RUNTIME = "https://serverlessworkflow.io/spec/1.0.0/errors/runtime"


def _stdio(method: str, parameters: str) -> str:
    return document(
        f"""
  - tool:
      call: mcp
      with:
        method: {method}
        parameters: {parameters}
        transport:
          stdio:
            command: "{sys.executable}"
            arguments: ["{SERVER}"]
            environment: {{GREETING_LANGUAGE: fr}}
        client: {{name: stigmer-test, version: '1.0'}}
        timeout: {{seconds: 60}}
"""
    )


async def test_a_tool_call_over_stdio(engine: Engine) -> None:
    flow = _stdio("tools/call", "{name: add, arguments: {a: '${ .a }', b: 3}}")
    output = await engine.run(flow, {"a": 2})
    assert output["content"][0] == {"type": "text", "text": "5"}
    assert output["isError"] is False


async def test_the_environment_reaches_the_server_and_tools_list(engine: Engine) -> None:
    flow = _stdio("tools/call", "{name: greeting, arguments: {name: Ada}}")
    assert (await engine.run(flow))["content"][0]["text"] == "Bonjour, Ada!"
    tools = await engine.run(_stdio("tools/list", "{}"))
    assert {tool["name"] for tool in tools["tools"]} == {"add", "greeting", "broken"}


async def test_a_failing_tool_is_a_runtime_error(engine: Engine) -> None:
    error = await engine.fault(_stdio("tools/call", "{name: broken}"))
    assert (error["type"], error["status"], error["instance"]) == (RUNTIME, 500, "/do/0/tool")
    assert "always fails" in error["detail"]


async def test_stdio_needs_processes_allowed(locked_engine: Engine) -> None:
    error = await locked_engine.fault(_stdio("tools/list", "{}"))
    assert (error["type"], error["status"]) == (PERMISSION, 403)
    assert f"`--allow-process {sys.executable}`" in error["detail"]


@pytest.fixture(scope="module")
def http_server() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, str(SERVER), str(port)], stderr=subprocess.DEVNULL)
    try:
        until_listening(port, process=process)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(10)


async def test_a_tool_call_over_streamable_http(engine: Engine, http_server: str) -> None:
    flow = document(
        f"""
  - tool:
      call: mcp
      with:
        method: tools/call
        parameters: {{name: add, arguments: {{a: 20, b: 22}}}}
        transport:
          http:
            endpoint: "{http_server}"
            headers: {{x-caller: stigmer}}
"""
    )
    output = await engine.run(flow)
    assert output["content"][0]["text"] == "42"
