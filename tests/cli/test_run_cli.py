"""`stigmer run`, `stigmer agent run` and `stigmer executions` against a running platform."""

from __future__ import annotations

import json
from pathlib import Path

from stigmer.api.v1 import stigmer_pb2 as pb
from tests.conftest import Platform
from tests.handshake.helpers import SCRIPTED, eventually, script
from tests.support.cli import run_cli_async

WORKFLOW = """document: {dsl: 1.0.0, namespace: test, name: ask, version: 1.0.0}
do:
  - ask:
      call: agent
      with:
        agent: scripted
        message: ${ .message }
  - answer:
      set:
        answer: ${ .output }
"""


async def stigmer(platform: Platform, *args: str) -> tuple[int, str, str]:
    return await run_cli_async("--address", platform.settings.address, *args)


async def test_run_prints_the_workflow_output(platform: Platform, tmp_path: Path) -> None:
    await platform.client.apply("agent", "scripted", SCRIPTED)
    flow = tmp_path / "ask.yaml"
    flow.write_text(WORKFLOW)
    message = json.dumps({"message": script(output="forty-two")})
    code, out, err = await stigmer(platform, "run", str(flow), "--input", message, "-o", "json")
    assert code == 0, err
    assert json.loads(out) == {"answer": "forty-two"}


async def test_run_exits_nonzero_with_the_dsl_error(platform: Platform, tmp_path: Path) -> None:
    await platform.client.apply("agent", "scripted", SCRIPTED)
    flow = tmp_path / "ask.yaml"
    flow.write_text(WORKFLOW)
    message = json.dumps({"message": script(fail="out of ideas")})
    code, out, _ = await stigmer(platform, "run", str(flow), "--input", message, "-o", "json")
    assert code == 1
    error = json.loads(out)
    assert error["type"] == "https://serverlessworkflow.io/spec/1.0.0/errors/runtime"
    assert error["status"] == 500
    assert "out of ideas" in error["detail"]
    assert error["title"]


async def test_run_rejects_an_invalid_file_with_its_line(
    platform: Platform, tmp_path: Path
) -> None:
    flow = tmp_path / "broken.yaml"
    flow.write_text(WORKFLOW.replace("agent: scripted", "agent: ''"))
    code, _, err = await stigmer(platform, "run", str(flow))
    assert code == 1
    assert f"{flow}:6: task /do/0/ask:" in err and "'agent'" in err


async def test_agent_run_direct_and_followed(platform: Platform) -> None:
    await platform.client.apply("agent", "scripted", SCRIPTED)
    code, out, err = await stigmer(platform, "agent", "run", "scripted", "hi", "-o", "json")
    assert code == 0, err
    finished = json.loads(out)
    assert finished["kind"] == "AgentExecution"
    assert finished["status"]["phase"] == "COMPLETED"
    assert "callback" not in finished["status"]

    followed = script(todos=["read", "write"], steps=2, sleep=1, output="all done")
    code, out, err = await stigmer(platform, "agent", "run", "scripted", followed, "--follow")
    assert code == 0, err
    assert "step 1 of 2" in out and "step 2 of 2" in out
    assert "todos:" in out and "read" in out
    assert "all done" in out and "COMPLETED" in out


async def test_executions_cancel_fails_the_callers_task(platform: Platform) -> None:
    await platform.client.apply("agent", "scripted", SCRIPTED)
    created = await platform.client.run_agent("scripted", script(sleep=60))

    async def running() -> bool:
        found = await platform.client.execution(created.execution.id)
        return found.status.phase == pb.IN_PROGRESS

    await eventually(running)
    code, out, err = await stigmer(platform, "executions", "cancel", created.execution.id)
    assert code == 0, err
    assert "cancel requested" in out
    done = await platform.client.wait(created.execution.id)
    assert done.status.phase == pb.CANCELLED
    code, out, _ = await stigmer(platform, "executions", "get", created.execution.id, "-o", "json")
    assert code == 0 and json.loads(out)["status"]["phase"] == "CANCELLED"
