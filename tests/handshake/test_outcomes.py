"""Each way an execution ends reaches its caller as the right result or typed error."""

from __future__ import annotations

from pathlib import Path

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.contract import problems
from stigmer.local.embedded import EmbeddedTemporal
from tests.conftest import Platform, running_platform
from tests.handshake.helpers import (
    SCRIPTED,
    agent_task,
    children,
    document,
    eventually,
    one_child,
    output_of,
    script,
)


async def run(platform: Platform, doc: dict[str, object], input: object = None) -> pb.Execution:
    created = await platform.client.run_workflow(document=doc, input=input)
    return await platform.client.wait(created.execution.id)


async def test_success_delivers_the_final_output(platform: Platform) -> None:
    await platform.client.apply("agent", "scripted", SCRIPTED)
    message = script(steps=2, sleep=0.4, output="final words", todos=["a"])
    done = await run(platform, document(agent_task("ask", message)))
    assert done.status.phase == pb.COMPLETED
    result = output_of(done)
    assert result["phase"] == "COMPLETED"
    assert result["output"] == "final words"
    call = await platform.client.execution(result["execution_id"])
    assert call.status.callback.outcome == pb.CALLBACK_DELIVERED
    assert [m.content for m in call.status.messages][-1] == "final words"
    assert [(t.content, t.status) for t in call.status.todos] == [("a", "completed")]


async def test_structured_result_reaches_the_caller(platform: Platform) -> None:
    await platform.client.apply("agent", "scripted", SCRIPTED)
    message = script(structured={"score": 7, "tags": ["x"]})
    done = await run(platform, document(agent_task("ask", message)))
    assert output_of(done)["structured"] == {"score": 7, "tags": ["x"]}


async def test_agent_failure_fails_the_caller_with_a_typed_error(platform: Platform) -> None:
    await platform.client.apply("agent", "scripted", SCRIPTED)
    done = await run(platform, document(agent_task("ask", script(fail="no sources"))))
    assert done.status.phase == pb.FAILED
    assert done.status.error.type == problems.RUNTIME
    assert "no sources" in done.status.error.detail
    call = await one_child(platform.client, done.id)
    assert call.status.phase == pb.FAILED
    assert call.status.callback.outcome == pb.CALLBACK_DELIVERED


async def test_agent_deadline_fails_the_caller_with_a_timeout(platform: Platform) -> None:
    await platform.client.apply("agent", "scripted", SCRIPTED)
    task = agent_task("ask", script(sleep=30), timeout={"seconds": 2})
    done = await run(platform, document(task))
    assert done.status.phase == pb.FAILED
    assert done.status.error.type == problems.TIMEOUT
    call = await one_child(platform.client, done.id)
    assert call.status.phase == pb.FAILED
    assert call.status.error.type == problems.TIMEOUT
    assert call.status.callback.outcome == pb.CALLBACK_DELIVERED


async def test_cancelling_the_execution_fails_the_caller_with_cancellation(
    platform: Platform,
) -> None:
    await platform.client.apply("agent", "scripted", SCRIPTED)
    created = await platform.client.run_workflow(
        document=document(agent_task("ask", script(sleep=60)))
    )
    call = await one_child(platform.client, created.execution.id)

    async def running() -> bool:
        return (await platform.client.execution(call.id)).status.phase == pb.IN_PROGRESS

    await eventually(running)
    await platform.client.cancel(call.id, reason="operator changed their mind")
    done = await platform.client.wait(created.execution.id)
    assert done.status.phase == pb.FAILED
    assert done.status.error.type == problems.CANCELLED
    call = await platform.client.wait(call.id)
    assert call.status.phase == pb.CANCELLED
    assert call.status.callback.outcome == pb.CALLBACK_DELIVERED


async def test_cancelling_the_caller_cancels_the_execution(platform: Platform) -> None:
    await platform.client.apply("agent", "scripted", SCRIPTED)
    created = await platform.client.run_workflow(
        document=document(agent_task("ask", script(sleep=60)))
    )
    call = await one_child(platform.client, created.execution.id)
    await platform.client.cancel(created.execution.id)
    call = await platform.client.wait(call.id)
    assert call.status.phase == pb.CANCELLED
    caller = await platform.client.wait(created.execution.id)
    assert caller.status.phase == pb.CANCELLED


async def test_nested_workflow_runs_through_the_same_handshake(platform: Platform) -> None:
    await platform.client.apply("agent", "scripted", SCRIPTED)
    inner = document(agent_task("ask", script(output="inner answer")), name="inner")
    await platform.client.apply("workflow", "inner", inner)
    outer = document(
        {
            "nested": {
                "run": {"workflow": {"namespace": "test", "name": "inner", "version": "1.0.0"}}
            }
        }
    )
    done = await run(platform, outer)
    assert done.status.phase == pb.COMPLETED, done.status.error
    # The task's output is the nested workflow's own output (dsl-reference.md, Run):
    # here, that of its `call: agent` task.
    result = output_of(done)
    assert result["phase"] == "COMPLETED"
    assert result["output"] == "inner answer"
    [nested] = await children(platform.client, done.id)
    assert nested.spec.kind == pb.WORKFLOW_EXECUTION
    assert nested.status.callback.outcome == pb.CALLBACK_DELIVERED


async def test_result_over_budget_is_passed_by_reference(
    temporal_server: EmbeddedTemporal, tmp_path: Path
) -> None:
    async with running_platform(temporal_server, tmp_path, result_size_budget=1024) as platform:
        await platform.client.apply("agent", "scripted", SCRIPTED)
        big = "x" * 5000
        done = await run(platform, document(agent_task("ask", script(output=big))))
        assert done.status.phase == pb.COMPLETED
        result = output_of(done)
        assert result["output"] is None
        assert result["result_ref"] == f"executions/{result['execution_id']}/result"
        fetched = await platform.client.result(result["execution_id"])
        assert fetched.output == big


async def test_a_refused_creation_fails_the_task_without_going_pending(
    platform: Platform,
) -> None:
    done = await run(platform, document(agent_task("ask", "hello", agent="nobody")))
    assert done.status.phase == pb.FAILED
    assert "agent 'nobody' not found" in done.status.error.detail
    assert done.status.error.instance == "/do/0/ask"
    assert await children(platform.client, done.id) == []
