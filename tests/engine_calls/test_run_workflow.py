"""`run: workflow` as `stigmer server` runs it: API, workers of every queue, dev server.

Each test is written from dsl-reference.md, "Run" and "Workflow Process".
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import Any

import pytest
from temporalio.testing import ActivityEnvironment

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.contract.inputs import CallRequest
from stigmer.engine import registry
from stigmer.engine.tasks.run_workflow import START_ACTIVITY
from stigmer.engine.tasktype import Services
from stigmer.engine.validation import parse_workflow
from stigmer.resources.values import to_json
from tests.conftest import Platform
from tests.support.engine import document

pytestmark = pytest.mark.temporal

CHILD = document(
    """
  - answer:
      set:
        doubled: ${ .n * 2 }
        received: ${ . }
"""
)


def parent(run: str) -> dict[str, Any]:
    return parse_workflow(
        document(
            f"""
  - prepare:
      set: {{n: 21, noise: true}}
  - child:
      input:
        from: '${{ {{n: .n}} }}'
      run:
{run}
"""
        )
    )


async def finished(platform: Platform, execution_id: str) -> pb.Execution:
    done = await asyncio.wait_for(platform.client.wait(execution_id), 60)
    assert done.status.phase == pb.COMPLETED, done.status.error
    return done


async def test_the_output_is_the_child_workflows_own_output(platform: Platform) -> None:
    # "Workflow Process ... input: The data, if any, to pass as input to the workflow";
    # a process's result is the task's output, and a workflow's result is its output.
    await platform.client.apply("workflow", "child", parse_workflow(CHILD))
    flow = parent(
        "        workflow: {namespace: test, name: child, version: '0.1.0', input: {n: 5}}"
    )
    run = await platform.client.run_workflow(document=flow)
    done = await finished(platform, run.execution.id)
    assert to_json(done.status.structured) == {"doubled": 10, "received": {"n": 5}}
    [child] = (
        await platform.client.list_executions(parent_execution_id=run.execution.id)
    ).executions
    assert child.status.phase == pb.COMPLETED
    task = next(t for t in done.status.tasks if t.name == "child")
    assert task.execution_id == child.id  # progress still links the task to its child


async def test_without_input_the_child_gets_the_tasks_transformed_input(
    platform: Platform,
) -> None:
    await platform.client.apply("workflow", "child", parse_workflow(CHILD))
    flow = parent("        workflow: {namespace: test, name: child, version: '0.1.0'}")
    run = await platform.client.run_workflow(document=flow)
    done = await finished(platform, run.execution.id)
    assert to_json(done.status.structured) == {"doubled": 42, "received": {"n": 21}}


async def test_await_false_starts_the_child_and_outputs_the_transformed_input(
    platform: Platform,
) -> None:
    # "await: When set to `false`, the task cannot wait for the process to complete and
    # thus cannot output the process's result. In this case, it should simply output its
    # transformed input."
    slow_child = document("  - pause: {wait: PT2S}\n  - answer: {set: {finished: true}}\n")
    await platform.client.apply("workflow", "slow-child", parse_workflow(slow_child))
    flow = parent(
        "        workflow: {namespace: test, name: slow-child, version: '0.1.0'}\n"
        "        await: false"
    )
    run = await platform.client.run_workflow(document=flow)
    done = await finished(platform, run.execution.id)
    assert to_json(done.status.structured) == {"n": 21}
    [child] = (
        await platform.client.list_executions(parent_execution_id=run.execution.id)
    ).executions
    assert child.status.phase in (pb.PENDING, pb.IN_PROGRESS)  # nothing waited for it
    assert not child.status.callback.workflow_id  # started without a callback token
    ended = await finished(platform, child.id)
    assert to_json(ended.status.structured) == {"finished": True}


async def test_a_retried_start_finds_the_child_it_already_started(platform: Platform) -> None:
    # The start activity, run twice as one activity's two attempts would run it.
    await platform.client.apply("workflow", "child", parse_workflow(CHILD))
    start = registry.activities(Services(platform.settings, platform.client))[START_ACTIVITY]
    request = CallRequest(kind="workflow", target="child", input={"n": 1})
    attempts = ActivityEnvironment()
    attempts.info = dataclasses.replace(attempts.info, workflow_id=f"parent-{uuid.uuid4()}")
    first = await attempts.run(start, request)
    attempts.info = dataclasses.replace(attempts.info, attempt=2)
    assert await attempts.run(start, request) == first
    ended = await finished(platform, first)
    assert to_json(ended.status.structured) == {"doubled": 2, "received": {"n": 1}}
