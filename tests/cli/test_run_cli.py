"""`stigmer run`, `stigmer agent run` (waiting or `--detach`ed) and `stigmer executions`
against a running platform."""

from __future__ import annotations

import json
from pathlib import Path

from ruamel.yaml import YAML

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


async def test_run_names_a_file_that_is_not_yaml_in_one_line(
    platform: Platform, tmp_path: Path
) -> None:
    """The file's name and line, as written: brackets in them are not taken for markup."""
    flow = tmp_path / "flow[red].yaml"
    flow.write_text("document: [unclosed\n")
    code, out, err = await stigmer(platform, "run", str(flow))
    assert code == 1
    assert out == ""
    assert err.startswith(f"error: {flow}:1: "), err
    assert "Traceback" not in err


async def test_agent_text_with_brackets_prints_as_written(platform: Platform) -> None:
    """A model's text may hold what rich reads as markup (`[/x]` would fail it)."""
    await platform.client.apply("agent", "scripted", SCRIPTED)
    said = "see [/x] and [red]this[/red] [link](http://a)"
    told = script(output=said)
    code, out, err = await stigmer(platform, "agent", "run", "scripted", told, "--follow")
    assert code == 0, err
    assert f"output: {said}" in out


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


# ------------------------------------------------------------------------- --detach


async def run_detached(
    platform: Platform, tmp_path: Path, message: str, *args: str
) -> tuple[int, str, str]:
    """`stigmer run ask.yaml --detach`, the scripted agent told `message`."""
    await platform.client.apply("agent", "scripted", SCRIPTED)
    flow = tmp_path / "ask.yaml"
    flow.write_text(WORKFLOW)
    data = json.dumps({"message": message})
    return await stigmer(platform, "run", str(flow), "-i", data, "--detach", *args)


async def test_run_detached_prints_the_id_and_result_picks_it_up(
    platform: Platform, tmp_path: Path
) -> None:
    code, out, err = await run_detached(platform, tmp_path, script(sleep=2, output="later"))
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
    code, out, err = await run_detached(platform, tmp_path, script(sleep=1), "-o", "json")
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
