"""Workflow code must replay its own histories: recorded runs of every task type, and the
histories kept in tests/replay/histories (recorded by an earlier version of the code, with
the payload keys kept beside them), are replayed by today's workflows without a
non-determinism error."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHistory

from stigmer.agents.workflow import AgentExecutionWorkflow
from stigmer.credentials import payload_keyring
from stigmer.engine.scheduling import ScheduledRunWorkflow
from stigmer.engine.workflow import WorkflowExecution
from stigmer.sealing.keys import Keyring
from stigmer.temporal import connect_temporal
from tests.conftest import Platform
from tests.handshake.helpers import SCRIPTED, agent_task, children, script
from tests.support.replay import replayer

HISTORIES = Path(__file__).with_name("histories")
KEYS = HISTORIES / "payload-keys"
"""The keys the recorded histories were sealed with: test keys, made for them alone."""
IDS = HISTORIES / "workflow-ids.json"
"""Each recorded history's workflow id: a caller's idempotency key is made from it."""
RECORD = os.environ.get("STIGMER_RECORD_HISTORIES") == "1"
"""Set to write this run's histories into tests/replay/histories (review, then commit)."""

EVERYTHING: dict[str, Any] = {
    "document": {"dsl": "1.0.0", "namespace": "test", "name": "everything", "version": "1.0.0"},
    "use": {"errors": {"late": {"type": "https://example.com/late", "status": 504}}},
    "do": [
        {"start": {"set": {"items": [1, 2, 3], "topic": "${ .topic }"}}},
        {
            "loop": {
                "for": {"in": "${ .items }", "each": "n"},
                "do": [{"add": {"set": {"last": "${ $n }"}}}],
            }
        },
        {
            "branch": {
                "switch": [
                    {"big": {"when": "${ .last > 2 }", "then": "split"}},
                    {"default": {"then": "end"}},
                ]
            }
        },
        {
            "split": {
                "fork": {
                    "branches": [
                        {"left": {"set": {"side": "left"}}},
                        {"right": {"wait": {"seconds": 1}}},
                    ]
                }
            }
        },
        {
            "guarded": {
                "try": [{"fail": {"raise": {"error": "late"}}}],
                "catch": {
                    "errors": {"with": {"status": 504}},
                    "as": "problem",
                    "do": [{"caught": {"set": {"caught": "${ $problem.type }"}}}],
                },
            }
        },
        agent_task("ask", script(output="answer", todos=["think"])),
        {
            "announce": {
                "emit": {
                    "event": {
                        "with": {
                            "source": "https://test.example",
                            "type": "done",
                            "data": "${ .output }",
                        }
                    }
                }
            }
        },
    ],
}


async def record(platform: Platform) -> list[WorkflowHistory]:
    client = platform.client
    await client.apply("agent", "scripted", SCRIPTED)
    run = await client.run_workflow(document=EVERYTHING, input={"topic": "tides"})
    done = await client.wait(run.execution.id)
    assert done.status.phase == 3, done.status.error  # COMPLETED
    temporal = await connect_temporal(platform.settings)
    ids = [done.status.temporal_workflow_id]
    ids += [call.status.temporal_workflow_id for call in await children(client, done.id)]
    return [await temporal.get_workflow_handle(i).fetch_history() for i in ids]


async def streamed(histories: list[WorkflowHistory]) -> AsyncIterator[WorkflowHistory]:
    for history in histories:
        yield history


WORKFLOWS = (WorkflowExecution, AgentExecutionWorkflow, ScheduledRunWorkflow)


async def test_todays_histories_replay(platform: Platform) -> None:
    histories = await record(platform)
    assert len(histories) == 2
    keyring = payload_keyring(platform.settings)
    results = await replayer(keyring, *WORKFLOWS).replay_workflows(
        streamed(histories), raise_on_replay_failure=False
    )
    assert not results.replay_failures, results.replay_failures
    if RECORD:
        HISTORIES.mkdir(exist_ok=True)
        KEYS.write_text(keyring.render())
        ids = {}
        for history in histories:
            name = history.workflow_id.split("/")[0] + ".json"
            (HISTORIES / name).write_text(history.to_json())
            ids[name] = history.workflow_id
        IDS.write_text(json.dumps(ids, indent=2) + "\n")


@pytest.mark.skipif(not HISTORIES.is_dir(), reason="no recorded histories")
async def test_recorded_histories_replay() -> None:
    ids = json.loads(IDS.read_text())
    assert ids
    histories = [
        WorkflowHistory.from_json(workflow_id, json.loads((HISTORIES / name).read_text()))
        for name, workflow_id in sorted(ids.items())
    ]
    keyring = Keyring.parse(KEYS.read_text(), str(KEYS))
    for history in histories:
        await replayer(keyring, *WORKFLOWS).replay_workflow(history)
