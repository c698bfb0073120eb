"""`stigmer apply|get|list|delete|validate` against a real platform.

The commands run their own event loop (`asyncio.run`), so each runs in a worker thread
while the platform keeps serving on the test's loop.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from stigmer.cli.main import app
from stigmer.local.embedded import free_port
from tests.conftest import Platform

AGENT = """\
apiVersion: stigmer.dev/v1
kind: Agent
metadata:
  name: {name}
  labels: {{team: docs}}
spec:
  description: Turns notes into a short brief.
  entrypoint: stigmer.agents.scripted:agent
"""

WORKFLOW = """\
document:
  dsl: 1.0.0
  namespace: test
  name: {name}
  version: 1.0.0
do:
  - ask:
      call: agent
      with:
        agent: writer
        message: ${{ .topic }}
"""

BROKEN_AGENT = """\
apiVersion: stigmer.dev/v1
kind: Agent
metadata:
  name: broken
spec:
  entrypoint: not-a-function
"""

BROKEN_WORKFLOW = """\
document:
  dsl: 1.0.0
  namespace: test
  name: broken
  version: 1.0.0
do:
  - first:
      set: {a: 1}
  - second:
      call: teleport
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


async def stigmer(platform: Platform, *args: str) -> Result:
    """Run a command against the platform's API, off the loop that serves it."""
    result = await asyncio.wait_for(
        asyncio.to_thread(invoke, "--address", platform.settings.address, *args), 60
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


async def test_apply_then_get_as_json(platform: Platform, tmp_path: Path) -> None:
    agent = write(tmp_path, "writer.yaml", AGENT.format(name="writer"))
    flow = write(tmp_path, "brief.yaml", WORKFLOW.format(name="brief"))
    applied = await stigmer(platform, "apply", "-f", str(agent), "-f", str(flow))
    assert applied.exit_code == 0, applied.stderr
    assert "agent/writer applied (version " in applied.stdout
    assert "workflow/brief applied (version " in applied.stdout

    shown = await stigmer(platform, "get", "agent", "writer", "-o", "json")
    assert shown.exit_code == 0, shown.stderr
    found = json.loads(shown.stdout)
    assert found["kind"] == "Agent"
    assert found["metadata"]["name"] == "writer"
    assert found["metadata"]["labels"] == {"team": "docs"}
    assert found["metadata"]["generation"] == 1
    assert found["spec"] == {
        "description": "Turns notes into a short brief.",
        "entrypoint": "stigmer.agents.scripted:agent",
    }

    again = await stigmer(platform, "apply", "-f", str(tmp_path), "-o", "json")
    assert again.exit_code == 0, again.stderr
    assert {(r["name"], r["changed"]) for r in json.loads(again.stdout)} == {
        ("writer", False),
        ("brief", False),
    }


async def test_a_broken_file_applies_nothing(platform: Platform, tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", AGENT.format(name="writer"))
    flow = write(tmp_path, "flow.yaml", WORKFLOW.format(name="brief"))
    bad_agent = write(tmp_path, "bad-agent.yaml", BROKEN_AGENT)
    bad_flow = write(tmp_path, "bad-flow.yaml", BROKEN_WORKFLOW)
    result = await stigmer(
        platform, "apply", "-f", str(good), "-f", str(bad_agent), "-f", str(flow),
        "-f", str(bad_flow),
    )  # fmt: skip
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert any(line.startswith(f"error: {bad_agent}:6: /spec/entrypoint: ") for line in lines)
    assert any(line.startswith(f"error: {bad_flow}:10: /do/1/second/call: ") for line in lines)
    assert result.stdout == ""
    assert await platform.client.list() == []


async def test_list_definitions(platform: Platform, tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", AGENT.format(name="writer") + "---\n" + AGENT.format(name="editor"))
    write(tmp_path, "b.yaml", WORKFLOW.format(name="brief"))
    assert (await stigmer(platform, "apply", "-f", str(tmp_path))).exit_code == 0

    everything = await stigmer(platform, "list", "-o", "json")
    assert everything.exit_code == 0, everything.stderr
    listed = [(d["kind"], d["metadata"]["name"]) for d in json.loads(everything.stdout)]
    assert listed == [("Agent", "editor"), ("Agent", "writer"), ("Workflow", "brief")]

    agents = await stigmer(platform, "list", "agents", "-o", "json")
    assert [d["metadata"]["name"] for d in json.loads(agents.stdout)] == ["editor", "writer"]

    table = await stigmer(platform, "list")
    assert table.exit_code == 0
    for name in ("editor", "writer", "brief"):
        assert name in table.stdout

    wrong = await stigmer(platform, "list", "gadgets")
    assert wrong.exit_code == 2
    assert "unknown kind 'gadgets'" in wrong.stderr


async def test_delete(platform: Platform, tmp_path: Path) -> None:
    agent = write(tmp_path, "writer.yaml", AGENT.format(name="writer"))
    assert (await stigmer(platform, "apply", "-f", str(agent))).exit_code == 0
    deleted = await stigmer(platform, "delete", "agent", "writer")
    assert deleted.exit_code == 0, deleted.stderr
    assert "agent/writer deleted" in deleted.stdout
    assert await platform.client.list() == []

    missing = await stigmer(platform, "get", "agent", "writer")
    assert missing.exit_code == 1
    assert "NOT_FOUND: agent 'writer' not found" in missing.stderr
    again = await stigmer(platform, "delete", "agent", "writer")
    assert again.exit_code == 1
    assert "NOT_FOUND" in again.stderr


def test_validate_good_and_bad_dsl_files(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", WORKFLOW.format(name="brief"))
    bad = write(tmp_path, "bad.yaml", BROKEN_WORKFLOW)

    passed = invoke("validate", str(good))
    assert passed.exit_code == 0, passed.stderr
    assert f"ok {good}" in passed.stdout

    failed = invoke("validate", str(good), str(bad))
    assert failed.exit_code == 1
    assert f"ok {good}" in failed.stdout
    assert f"error: {bad}:10: task /do/1/second: " in failed.stderr
    assert "teleport" in failed.stderr
    assert "1 of 2 file(s) invalid" in failed.stderr


def test_an_unreachable_api_says_so_and_exits_2() -> None:
    address = f"127.0.0.1:{free_port()}"
    result = subprocess.run(
        [sys.executable, "-m", "stigmer.cli.main", "--address", address, "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    message = " ".join(result.stderr.split())
    assert f"cannot reach the Stigmer API at {address}" in message
    assert "stigmer server" in message


@pytest.mark.parametrize("args", [["get", "agent", "writer"], ["delete", "workflow", "brief"]])
def test_every_api_command_reports_an_unreachable_api(args: list[str]) -> None:
    result = invoke("--address", f"127.0.0.1:{free_port()}", *args)
    assert result.exit_code == 2
    assert "stigmer server" in result.stderr
