"""A secret value never leaves the runner: not in status, messages, logs or workflow history."""

from __future__ import annotations

import base64
import io
import json

import pytest
from google.protobuf import json_format

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.temporal import connect_temporal
from tests.agents.helpers import KEY, provider_agent
from tests.agents.standins import OpenAI, Reply, Request, StandIn
from tests.conftest import Platform
from tests.handshake.helpers import agent_task, children, document


def forms(secret: str) -> list[str]:
    raw = secret.encode()
    return [secret, base64.b64encode(raw).decode(), raw.hex(), json.dumps(secret)[1:-1]]


async def test_a_secret_is_used_but_never_recorded(
    platform: Platform, json_logs: io.StringIO
) -> None:
    def respond(request: Request) -> Reply:
        # A provider that repeats the key it was given, in a tool call and in its answer.
        key = request.headers["authorization"].removeprefix("Bearer ")
        if not OpenAI.tool_results(request):
            todo = {"content": f"keep {key} safe", "status": "in_progress"}
            return OpenAI.tool_call("write_todos", {"todos": [todo]}, text=f"my key is {key}")
        return OpenAI.text(f"done; the key was {key}")

    async with StandIn(respond) as standin:
        spec = provider_agent(OpenAI, standin, tools=["write_todos"])
        await platform.client.apply("agent", "keeper", spec)
        run = await platform.client.run_workflow(
            document=document(agent_task("ask", "hi", "keeper"))
        )
        finished = await platform.client.wait(run.execution.id)
        [call] = await children(platform.client, run.execution.id)
        call = await platform.client.wait(call.id)

    assert standin.requests[0].headers["authorization"] == f"Bearer {KEY}"  # it was used
    assert finished.status.phase == pb.COMPLETED, finished.status.error
    assert call.status.output == "done; the key was ***"
    assert call.status.todos[0].content == "keep *** safe"

    records = {
        "workflow execution": json_format.MessageToJson(finished),
        "agent execution": json_format.MessageToJson(call),
        "result": json_format.MessageToJson(await platform.client.result(call.id)),
        "logs": json_logs.getvalue(),
    }
    temporal = await connect_temporal(platform.settings)
    for workflow_id in (finished.status.temporal_workflow_id, call.status.temporal_workflow_id):
        history = await temporal.get_workflow_handle(workflow_id).fetch_history()
        records[f"history {workflow_id}"] = history.to_json()
        for event in history.events:
            assert KEY.encode() not in event.SerializeToString(), f"{workflow_id}: {event}"
    assert "agent running" in records["logs"]
    leaked = [name for name, text in records.items() if any(f in text for f in forms(KEY))]
    assert not leaked, f"the secret leaked into: {leaked}"


async def test_a_missing_secret_fails_before_the_model_is_called(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STIGMER_SECRET_STANDIN_KEY")

    def respond(request: Request) -> Reply:
        raise AssertionError("the model must not be called")

    async with StandIn(respond) as standin:
        await platform.client.apply("agent", "keyless", provider_agent(OpenAI, standin))
        created = await platform.client.run_agent("keyless", "hi")
        done = await platform.client.wait(created.execution.id)

    assert done.status.phase == pb.FAILED
    assert done.status.error.type == "https://serverlessworkflow.io/spec/1.0.0/errors/configuration"
    assert "STIGMER_SECRET_STANDIN_KEY" in done.status.error.detail
    assert standin.requests == []
