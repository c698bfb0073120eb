"""The whole token is a credential: no answer a client gets and no log line ever holds it
(only a worker, with the worker credential, reads it back)."""

from __future__ import annotations

import io
from typing import Any

from stigmer.api.v1 import stigmer_pb2 as pb
from tests.conftest import Platform
from tests.handshake.helpers import SCRIPTED, agent_task, children, document, script
from tests.support.secrecy import encodings

HANDOFF_EVENTS = (
    "token extracted",
    "execution created",
    "caller pending",
    "heartbeat",
    "execution finished",
    "callback delivered",
    "callback not delivered",
)


async def test_no_client_answer_or_log_line_holds_a_whole_token(
    platform: Platform, json_logs: io.StringIO
) -> None:
    client = platform.client
    await client.apply("agent", "scripted", SCRIPTED)
    quick: dict[str, Any] = {"heartbeatTimeout": {"seconds": 3}}
    runs = [
        (
            await client.run_workflow(
                document=document(agent_task("ok", script(sleep=2.5), **quick))
            )
        ),
        (await client.run_workflow(document=document(agent_task("bad", script(fail="boom"))))),
    ]
    responses: list[bytes] = []
    for run in runs:
        async for change in client.watch(run.execution.id):
            responses.append(change.SerializeToString())
    tokens = []
    for run in runs:
        for call in await children(client, run.execution.id):
            async for change in client.watch(call.id):
                responses.append(change.SerializeToString())
            tokens.append((await platform.worker.callback_token(call.id)).task_token)
            responses.append((await client.execution(call.id)).SerializeToString())
            responses.append((await client.result(call.id)).SerializeToString())
    listed = await client.list_executions()
    responses.append(listed.SerializeToString())
    logs = json_logs.getvalue()

    assert len(tokens) == 2 and all(len(token) > 32 for token in tokens)
    for token in tokens:
        assert all(token not in response for response in responses)
        leaked = [form for form in encodings(token) if form in logs]
        assert not leaked, f"token material in the logs: {leaked[:3]}"
    for event in HANDOFF_EVENTS[:-1]:
        assert f'"event": "{event}"' in logs, f"no {event!r} log event"
    finished = [await client.execution(run.execution.id) for run in runs]
    assert [run.status.phase for run in finished] == [pb.COMPLETED, pb.FAILED]
