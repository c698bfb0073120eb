"""Agent calls for the fault tests: started through a platform of processes, and the
checks that each ended exactly once, whatever was killed on the way."""

from __future__ import annotations

from typing import Any

from stigmer.api.v1 import stigmer_pb2 as pb
from tests.faults.processes import Observed, ProcessPlatform
from tests.handshake.helpers import SCRIPTED, agent_task, document, eventually, output_of


async def start_calls(
    platform: Observed,
    messages: list[str],
    agent: dict[str, Any] = SCRIPTED,
    **task_options: Any,
) -> list[str]:
    """One workflow per message, each calling `agent` (scripted by default) once, its
    `call: agent` task given `task_options` (`heartbeatTimeout=...`); their ids."""
    name = "scripted" if agent is SCRIPTED else "modelled"
    await platform.client.apply("agent", name, agent)
    ids = []
    for message in messages:
        task = agent_task("ask", message, agent=name, **task_options)
        created = await platform.client.run_workflow(document=document(task))
        ids.append(created.execution.id)
    return ids


async def working_calls(platform: Observed, workflow_ids: list[str]) -> list[str]:
    """The agent execution of each workflow, once every agent is inside its own code.

    That is when the agent has reported its first step: IN_PROGRESS alone comes before
    the runner has even picked the run up. The scripts must have `steps`.
    """
    found: dict[str, str] = {}

    async def all_working() -> bool:
        for workflow_id in workflow_ids:
            listed = await platform.client.list_executions(parent_execution_id=workflow_id)
            calls = list(listed.executions)
            if len(calls) != 1:
                return False
            if not any(m.content.startswith("step 1 of") for m in calls[0].status.messages):
                return False
            found[workflow_id] = calls[0].id
        return True

    await eventually(all_working, seconds=30)
    return [found[workflow_id] for workflow_id in workflow_ids]


async def agents_done(
    platform: ProcessPlatform, call_ids: list[str], outputs: list[str], seconds: float
) -> None:
    """Until every agent has said its last word (the scripted agent says its output last,
    then returns it to its workflow; the ending is recorded only after that)."""

    async def all_reported() -> bool:
        calls = [await platform.client.execution(call_id) for call_id in call_ids]
        return all(
            call.status.messages and call.status.messages[-1].content == output
            for call, output in zip(calls, outputs, strict=True)
        )

    await eventually(all_reported, seconds=seconds)


async def settled(
    platform: Observed, execution_ids: list[str], seconds: float
) -> list[pb.Execution]:
    """Every execution finished, with its callback recorded; polled, as the API may restart."""
    done: dict[str, pb.Execution] = {}

    async def all_settled() -> bool:
        for execution_id in execution_ids:
            if execution_id not in done:
                found = await platform.settled(execution_id)
                if found is None:
                    return False
                done[execution_id] = found
        return True

    await eventually(all_settled, seconds=seconds, every=0.5)
    return [done[execution_id] for execution_id in execution_ids]


async def assert_each_call_completed_once(
    platform: Observed,
    workflow_ids: list[str],
    outputs: list[str],
    seconds: float,
    *,
    agents_in_store: int | None = None,
) -> list[pb.Execution]:
    """Each workflow completed with its own agent's output, delivered by its one execution;
    the store holds `agents_in_store` agent executions in all (default: one per workflow)."""
    workflows = await settled(platform, workflow_ids, seconds)
    phases = [pb.Phase.Name(w.status.phase) for w in workflows]
    assert phases == ["COMPLETED"] * len(workflows), [w.status.error.detail for w in workflows]
    results = [output_of(w) for w in workflows]
    assert [r["output"] for r in results] == outputs
    assert [r["phase"] for r in results] == ["COMPLETED"] * len(results)
    calls = await settled(platform, [r["execution_id"] for r in results], seconds=15)
    assert [c.status.callback.outcome for c in calls] == [pb.CALLBACK_DELIVERED] * len(calls), [
        c.status.callback.detail for c in calls
    ]
    for workflow in workflows:
        children = await platform.client.list_executions(parent_execution_id=workflow.id)
        assert len(children.executions) == 1, f"{workflow.id} made {len(children.executions)}"
    every_call = await platform.client.list_executions(kind="AGENT_EXECUTION", page_size=1000)
    expected = len(workflow_ids) if agents_in_store is None else agents_in_store
    assert len(every_call.executions) == expected, "an execution was duplicated"
    return calls
