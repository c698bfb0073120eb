"""The example agents apply as they are, and the demo workflow runs on the offline ones."""

from __future__ import annotations

from pathlib import Path

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.cli.definitions import workflow_errors
from stigmer.engine.validation import load_workflow
from stigmer.resources.definitions import load_resources
from tests.conftest import Platform
from tests.handshake.helpers import children, output_of

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


async def test_the_demo_workflow_runs_offline_on_the_example_agents(platform: Platform) -> None:
    resources = load_resources([EXAMPLES / "agents"], workflow_errors)
    assert {r.spec.get("model", "").partition(":")[0] for r in resources} >= {
        "openai",
        "anthropic",
        "ollama",
        "test",
    }
    assert any("entrypoint" in r.spec for r in resources)
    for resource in resources:
        await platform.client.apply(resource.kind, resource.name, resource.spec)
    document = load_workflow(EXAMPLES / "workflows" / "brief.yaml")
    run = await platform.client.run_workflow(document=document, input={"topic": "tides"})
    done = await platform.client.wait(run.execution.id)

    assert done.status.phase == pb.COMPLETED, done.status.error
    assert output_of(done)["brief"] == "Brief: notes on tides"
    calls = [
        await platform.client.execution(c.id)
        for c in await children(platform.client, run.execution.id)
    ]
    assert {c.spec.agent.agent for c in calls} == {"researcher", "writer"}
    for call in calls:
        assert any(m.tool_name == "write_todos" for m in call.status.messages)
        assert all(t.status == "completed" for t in call.status.todos)
