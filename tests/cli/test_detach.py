"""`stigmer run --detach` and `stigmer agent run --detach` against a running platform."""

from __future__ import annotations

import json
from pathlib import Path

from ruamel.yaml import YAML

from stigmer.api.v1 import stigmer_pb2 as pb
from tests.conftest import Platform
from tests.handshake.helpers import SCRIPTED, script
from tests.support.cli import run_cli_async

WORKFLOW = """document: {dsl: 1.0.0, namespace: test, name: detached, version: 1.0.0}
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


async def test_run_detached_prints_the_id_and_result_picks_it_up(
    platform: Platform, tmp_path: Path
) -> None:
    await platform.client.apply("agent", "scripted", SCRIPTED)
    flow = tmp_path / "detached.yaml"
    flow.write_text(WORKFLOW)
    message = json.dumps({"message": script(sleep=2, output="later")})
    code, out, err = await stigmer(platform, "run", str(flow), "-i", message, "--detach")
    assert code == 0, err
    execution_id = out.strip()
    assert execution_id and "\n" not in execution_id
    started = await platform.client.execution(execution_id)
    assert started.spec.kind == pb.WORKFLOW_EXECUTION
    assert started.status.phase in (pb.PENDING, pb.IN_PROGRESS)  # it did not wait for the end

    code, out, err = await stigmer(platform, "executions", "watch", execution_id)
    assert code == 0, err
    assert "COMPLETED" in out
    code, out, err = await stigmer(platform, "executions", "result", execution_id)
    assert code == 0, err
    assert json.loads(out)["structured"] == {"answer": "later"}


async def test_run_detached_as_json_prints_the_execution(
    platform: Platform, tmp_path: Path
) -> None:
    await platform.client.apply("agent", "scripted", SCRIPTED)
    flow = tmp_path / "detached.yaml"
    flow.write_text(WORKFLOW)
    message = json.dumps({"message": script(sleep=1, output="ok")})
    code, out, err = await stigmer(
        platform, "run", str(flow), "-i", message, "--detach", "-o", "json"
    )
    assert code == 0, err
    execution = json.loads(out)
    assert execution["kind"] == "WorkflowExecution"
    assert execution["status"]["phase"] in ("PENDING", "IN_PROGRESS")
    done = await platform.client.wait(execution["id"])
    assert done.status.phase == pb.COMPLETED


async def test_agent_run_detached(platform: Platform) -> None:
    await platform.client.apply("agent", "scripted", SCRIPTED)
    message = script(sleep=1, output="agent done")
    code, out, err = await stigmer(platform, "agent", "run", "scripted", message, "--detach")
    assert code == 0, err
    execution_id = out.strip()
    code, out, err = await stigmer(platform, "executions", "watch", execution_id)
    assert code == 0, err
    assert "agent done" in out and "COMPLETED" in out

    code, out, err = await stigmer(
        platform, "agent", "run", "scripted", message, "--detach", "-o", "yaml"
    )
    assert code == 0, err
    execution = YAML(typ="safe").load(out)
    assert execution["kind"] == "AgentExecution"
    assert (await platform.client.wait(execution["id"])).status.phase == pb.COMPLETED


async def test_follow_and_detach_exclude_each_other(platform: Platform) -> None:
    code, out, err = await stigmer(
        platform, "agent", "run", "scripted", "hi", "--detach", "--follow"
    )
    assert code == 2
    assert out == ""
    assert "--follow/--detach" in err and "give one of them" in err
