"""`emit` and `listen` across running WorkflowExecutions, through the API and the CLI."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import Client
from stigmer.store.store import Store
from tests.conftest import Platform
from tests.handshake.helpers import document, eventually, output_of

VITALS = "com.hospital.vitals.v1"


async def listening(platform: Platform, execution_id: str, task: str) -> None:
    """Until the run's `listen` task has subscribed."""

    async def subscribed() -> bool:
        found = await platform.client.execution(execution_id)
        return any(t.path == task and t.status == "running" for t in found.status.tasks)

    await eventually(subscribed)
    store = platform.api.store
    assert isinstance(store, Store)

    async def registered() -> bool:
        return f"workflow-execution/{execution_id}" in await store.subscriptions.workflows()

    await eventually(registered)


async def start(client: Client, *tasks: dict[str, Any]) -> str:
    return (await client.run_workflow(document=document(*tasks))).execution.id


async def test_listen_one_takes_the_first_matching_published_event(platform: Platform) -> None:
    client = platform.client
    run = await start(
        client,
        {
            "wait": {
                "listen": {"to": {"one": {"with": {"type": VITALS, "data": "${ .bpm > 100 }"}}}}
            }
        },
    )
    await listening(platform, run, "/do/0/wait")
    calm = await client.publish_event({"type": VITALS, "source": "ward/3", "data": {"bpm": 70}})
    assert list(calm.delivered_to) == [run]
    await client.publish_event({"type": "other", "source": "ward/3", "data": {"bpm": 150}})
    await client.publish_event({"type": VITALS, "source": "ward/3", "data": {"bpm": 130}})
    done = await client.wait(run)
    assert done.status.phase == pb.COMPLETED, done.status.error
    assert output_of(done) == [{"bpm": 130}]
    assert await platform.api.store.subscriptions.workflows() == []  # type: ignore[union-attr]


async def test_listen_all_any_until_and_foreach(platform: Platform) -> None:
    client = platform.client
    both = {
        "listen": {
            "to": {
                "all": [
                    {"with": {"type": "order.paid"}},
                    {"with": {"type": "order.packed", "source": "https://warehouse.example/.*"}},
                ]
            },
            "read": "envelope",
        }
    }
    tally = {
        "listen": {"to": {"any": [{"with": {"type": "tick"}}], "until": "${ length >= 3 }"}},
        "foreach": {
            "item": "tick",
            "output": {"as": "${ $tick.n * 10 }"},
            "export": {"as": "${ $context + {total: (($context.total // 0) + $output)} }"},
        },
    }
    total = {"set": {"total": "${ $context.total }"}}
    run = await start(client, {"both": both}, {"tally": tally}, {"total": total})
    await listening(platform, run, "/do/0/both")
    await client.publish_event(
        {"type": "order.packed", "source": "https://warehouse.example/7"}, run
    )
    await client.publish_event({"type": "order.packed", "source": "shop/1"}, run)
    await client.publish_event({"type": "order.paid", "source": "shop/1"}, run)
    for n in range(1, 5):
        await client.publish_event({"type": "tick", "source": "clock", "data": {"n": n}}, run)
    done = await client.wait(run)
    assert done.status.phase == pb.COMPLETED, done.status.error
    assert output_of(done) == {"total": 60}  # each event's export saw the one before
    tasks = {t.path: t for t in done.status.tasks}
    assert output_of_task(tasks["/do/1/tally"]) == [10, 20, 30]
    received = output_of_task(tasks["/do/0/both"])
    assert [(e["type"], e["source"]) for e in received] == [
        ("order.packed", "https://warehouse.example/7"),
        ("order.paid", "shop/1"),
    ]
    assert all(e["specversion"] == "1.0" and e["id"] for e in received)


def output_of_task(task: pb.TaskProgress) -> Any:
    from stigmer.resources.values import to_json

    return to_json(task.output)


async def test_an_emitted_event_reaches_a_listening_run(platform: Platform) -> None:
    client = platform.client
    waiter = await start(
        client, {"wait": {"listen": {"to": {"one": {"with": {"type": "greeted"}}}}}}
    )
    await listening(platform, waiter, "/do/0/wait")
    emitter = await start(
        client,
        {
            "greet": {
                "emit": {
                    "event": {
                        "with": {
                            "source": "https://test.example",
                            "type": "greeted",
                            "data": "${ .name }",
                        }
                    }
                }
            }
        },
    )
    emitted = await client.wait(emitter)
    assert emitted.status.phase == pb.COMPLETED, emitted.status.error
    event = output_of(emitted)
    assert event["type"] == "greeted" and event["specversion"] == "1.0"
    done = await client.wait(waiter)
    assert done.status.phase == pb.COMPLETED, done.status.error
    assert output_of(done) == [None]


async def test_cli_sends_an_event_to_one_execution(platform: Platform) -> None:
    client = platform.client
    run = await start(client, {"wait": {"listen": {"to": {"any": []}, "read": "data"}}})
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "stigmer.cli.main", "--address", platform.settings.address,
        "events", "send", "--type", "approval", "--data", json.dumps({"ok": True}),
        "--execution", run, "-o", "json",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    assert json.loads(out) == {"delivered_to": [run]}
    done = await client.wait(run)
    assert output_of(done) == [{"ok": True}]
