"""The handshake end to end on a real Temporal server: the happy paths, and what a run
records of its tasks."""

from __future__ import annotations

import json

from google.protobuf import json_format

from stigmer.api.v1 import stigmer_pb2 as pb
from tests.conftest import Platform

SCRIPTED = {"entrypoint": "stigmer.agents.scripted:agent"}


def workflow_calling(message: str) -> dict[str, object]:
    return {
        "document": {"dsl": "1.0.0", "namespace": "test", "name": "ask", "version": "1.0.0"},
        "do": [
            {"ask": {"call": "agent", "with": {"agent": "scripted", "message": message}}},
        ],
    }


async def test_direct_agent_run_completes_without_callback(platform: Platform) -> None:
    await platform.client.apply("agent", "scripted", SCRIPTED)
    created = await platform.client.run_agent("scripted", "hello")
    done = await platform.client.wait(created.execution.id)
    assert done.status.phase == pb.COMPLETED
    assert done.status.output == "echo: hello"
    assert done.status.callback.outcome == pb.CALLBACK_OUTCOME_UNSPECIFIED


async def test_workflow_call_agent_gets_final_output(platform: Platform) -> None:
    await platform.client.apply("agent", "scripted", SCRIPTED)
    message = json.dumps({"steps": 2, "sleep": 0.5, "output": "the answer"})
    created = await platform.client.run_workflow(document=workflow_calling(message))
    done = await platform.client.wait(created.execution.id)
    assert done.status.phase == pb.COMPLETED, done.status.error
    output = json_format.MessageToDict(done.status.structured)
    assert output["phase"] == "COMPLETED"
    assert output["output"] == "the answer"
    agent_execution = await platform.client.execution(output["execution_id"])
    assert agent_execution.status.callback.outcome == pb.CALLBACK_DELIVERED
    assert agent_execution.spec.parent_execution_id == created.execution.id


async def test_per_task_progress_is_recorded(platform: Platform) -> None:
    await platform.client.apply("agent", "scripted", SCRIPTED)
    doc = workflow_calling(json.dumps({"output": "x"}))
    doc["do"] = [
        {"prepare": {"set": {"topic": "${ .topic }"}}},
        {"never": {"if": "${ false }", "set": {"skipped": True}}},
        *doc["do"],  # type: ignore[misc]
    ]
    created = await platform.client.run_workflow(document=doc, input={"topic": "tides"})
    done = await platform.client.wait(created.execution.id)
    tasks = {task.path: task for task in done.status.tasks}
    assert [tasks[p].status for p in ("/do/0/prepare", "/do/1/never", "/do/2/ask")] == [
        "completed",
        "skipped",
        "completed",
    ]
    assert json_format.MessageToDict(tasks["/do/0/prepare"].input) == {"topic": "tides"}
    assert json_format.MessageToDict(tasks["/do/0/prepare"].output) == {"topic": "tides"}
    ask = tasks["/do/2/ask"]
    assert ask.execution_id == json_format.MessageToDict(done.status.structured)["execution_id"]
    assert ask.HasField("started_at") and ask.HasField("finished_at")


async def test_a_task_whose_output_cannot_be_shaped_is_recorded_faulted(
    platform: Platform,
) -> None:
    doc = {
        "document": {"dsl": "1.0.0", "namespace": "test", "name": "shape", "version": "1.0.0"},
        "do": [
            {"fine": {"set": {"n": 1}}},
            {"bad": {"set": {"n": "one"}, "output": {"as": "${ {m: (.n + 1)} }"}}},
        ],
    }
    created = await platform.client.run_workflow(document=doc)
    done = await platform.client.wait(created.execution.id)
    assert done.status.phase == pb.FAILED
    assert done.status.error.instance == "/do/1/bad"
    tasks = {task.path: task for task in done.status.tasks}
    assert [tasks[p].status for p in ("/do/0/fine", "/do/1/bad")] == ["completed", "faulted"]
    bad = tasks["/do/1/bad"]
    assert bad.error.instance == "/do/1/bad"
    assert "cannot be added" in bad.error.detail
