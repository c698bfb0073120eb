"""Every hand-off of a call logs one event that names the execution, the caller's
workflow and activity and a token preview; no line holds a whole token or a secret."""

from __future__ import annotations

import json

from stigmer.client import Client
from tests.handshake.helpers import SCRIPTED, agent_task, children, document, script
from tests.observability.conftest import Observed
from tests.support.secrecy import encodings

HANDOFFS = (
    "token extracted",
    "execution created",
    "caller pending",
    "execution started",
    "heartbeat",
    "execution finished",
    "callback delivered",
)
WITHOUT_EXECUTION_YET = {"token extracted"}


async def test_each_handoff_is_one_event_with_its_fields(observed: Observed) -> None:
    settings = observed.platform.settings
    async with Client.from_settings(settings) as client:
        await client.apply("agent", "scripted", SCRIPTED)
        quick = {"heartbeatTimeout": {"seconds": 3}}
        run = await client.run_workflow(
            document=document(agent_task("ok", script(sleep=2.5, output="done"), **quick))
        )
        await client.wait(run.execution.id)
        (call,) = await children(client, run.execution.id)
        token = (await observed.platform.worker.callback_token(call.id)).task_token
        preview = (await client.execution(call.id)).status.callback.token_preview
    lines = [json.loads(line) for line in observed.logs.getvalue().splitlines() if line]
    raw = observed.logs.getvalue()

    assert settings.api_token is not None
    assert settings.api_token.get_secret_value() not in raw
    leaked = [form for form in encodings(token) if form in raw]
    assert not leaked, f"token material in the logs: {leaked[:3]}"
    ours = [
        e for e in lines if call.id == e.get("execution_id") or preview == e.get("token_preview")
    ]
    for event in HANDOFFS:
        found = [line for line in ours if line["event"] == event]
        assert found, f"no {event!r} event"
        for line in found:
            assert line["token_preview"] == preview, line
            assert line["workflow_id"] == call.status.callback.workflow_id, line
            assert line["activity_id"] == call.status.callback.activity_id, line
            if event not in WITHOUT_EXECUTION_YET:
                assert line["execution_id"] == call.id, line
    for line in lines:
        if line.get("token_preview"):
            assert len(line["token_preview"]) == len(preview), line
