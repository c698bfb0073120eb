"""After calls that succeeded and calls that failed, a secret, the worker credential and a
caller's task token are nowhere: not in a Temporal history (`temporal workflow show`),
not in any answer of the API, not in any log line of the server or the worker."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import json_format
from google.protobuf.message import Message

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import ApiError, Client
from stigmer.local.embedded import EmbeddedTemporal
from stigmer.sealing.codec import SealingCodec
from stigmer.sealing.keys import Keyring
from tests.handshake.helpers import agent_task, children
from tests.security.platforms import API_KEY, SCRIPTED, ServedPlatform
from tests.support.echo import running_echo
from tests.support.leaks import leaked, with_payloads_decoded

pytestmark = [pytest.mark.temporal, pytest.mark.timeout(300)]

WAIT = 60
TEMPORAL_CLI = Path(sys.executable).with_name("temporal")


@pytest.fixture(scope="module")
def echo() -> Iterator[str]:
    with running_echo() as base:
        yield base


def workflow(echo: str, status: int) -> dict[str, object]:
    """An agent call (a caller's token is handed over), then an HTTP call with the secret
    in its path, query, headers and body, answered with `status`."""
    secret = '$secrets["api-key"]'
    http = {
        "call": "http",
        "with": {
            "method": "post",
            "endpoint": f'${{ "{echo}/{status}/items/" + {secret} }}',
            "headers": {"x-api-key": f"${{ {secret} }}"},
            "query": {"key": f"${{ {secret} }}"},
            "body": {"token": f"${{ {secret} }}"},
            "output": "response",
        },
    }
    return {
        "document": {"dsl": "1.0.0", "namespace": "test", "name": "leaks", "version": "1.0.0"},
        "use": {"secrets": ["api-key"]},
        "do": [agent_task("ask", "hello"), {"send": http}],
    }


def history(temporal: EmbeddedTemporal, workflow_id: str, platform: ServedPlatform) -> bytes:
    command = [str(TEMPORAL_CLI), "workflow", "show", "--workflow-id", workflow_id]
    shown = subprocess.run(
        [*command, "--address", temporal.address, "--output", "json"],
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=True,
    )
    keys = platform.data_dir / "payload-keys"
    return with_payloads_decoded(shown.stdout, SealingCodec(Keyring.parse(keys.read_text(), "")))


def answer(message: Message) -> bytes:
    return message.SerializeToString() + json_format.MessageToJson(message).encode()


async def every_answer(client: Client, executions: list[pb.Execution]) -> dict[str, bytes]:
    """Get, Watch and GetResult of each execution, List and ListStuck."""
    records = {"list": answer(await client.list_executions())}
    records["stuck"] = answer(await client.list_stuck())
    for execution in executions:
        records[f"get {execution.id}"] = answer(await client.execution(execution.id))
        async with asyncio.timeout(WAIT):
            watched = [answer(change) async for change in client.watch(execution.id)]
        records[f"watch {execution.id}"] = b"".join(watched)
        try:
            records[f"result {execution.id}"] = answer(await client.result(execution.id))
        except ApiError as exc:  # a failed run has no result: its answer is the error
            records[f"result {execution.id}"] = str(exc).encode()
    return records


async def test_a_secret_a_token_and_the_worker_credential_are_nowhere(
    public_served: ServedPlatform, temporal_server: EmbeddedTemporal, echo: str
) -> None:
    platform = public_served
    async with platform.client() as client:
        await client.apply("agent", "scripted", SCRIPTED)
        runs = [await client.run_workflow(document=workflow(echo, s)) for s in (200, 401)]
        ended = [await client.wait(run.execution.id) for run in runs]
        executions = list(ended)
        for run in ended:
            executions += await children(client, run.id)
        records = await every_answer(client, executions)
    async with platform.worker_client() as worker:
        tokens = [(await worker.callback_token(e.id)).task_token for e in executions[2:]]
    for execution in executions:
        workflow_id = execution.status.temporal_workflow_id
        records[f"history {workflow_id}"] = history(temporal_server, workflow_id, platform)
    for part in platform.parts:
        records[f"log of the {part.name}"] = part.log.read_bytes()

    succeeded, failed = ended
    assert succeeded.status.phase == pb.COMPLETED, succeeded.status.error
    assert failed.status.phase == pb.FAILED
    assert failed.status.error.status == 401
    assert "/401/items/***?key=*** answered 401" in failed.status.error.detail
    assert len(executions) == 4 and len(tokens) == 2 and all(tokens)
    histories = b"".join(v for k, v in records.items() if k.startswith("history"))
    assert b"stigmer/engine/call-http" in histories and b'"x-api-key":"***"' in histories
    assert b"execution created" in records["log of the server"]

    assert leaked(API_KEY, records) == []
    assert leaked(platform.worker_credential(), records) == []
    assert platform.user_token and leaked(platform.user_token, records) == []
    for token in tokens:
        assert leaked(token, records) == []


async def test_a_database_error_answers_and_logs_no_token(public_served: ServedPlatform) -> None:
    """A write the database fails (a trigger asking SQLite for a blob over its limit)
    while it stores a caller's token: not a conflict the store expects, so the API
    answers INTERNAL with the error's text, and logs it with its traceback."""
    platform = public_served
    token = b"RECOGNIZABLE-DB-TOKEN-" + bytes(range(64))
    database = platform.data_dir / "stigmer.db"
    with sqlite3.connect(database) as db:
        db.execute(
            "CREATE TRIGGER refuse_tokens BEFORE INSERT ON callback_tokens "
            "BEGIN SELECT zeroblob(2147483647); END"
        )
    try:
        async with platform.worker_client() as worker:
            await worker.apply("agent", "scripted", SCRIPTED)
            callback = pb.CallbackRef(task_token=token, workflow_id="caller", activity_id="1")
            with pytest.raises(ApiError) as refused:
                await worker.run_agent(
                    "scripted", "hi", idempotency_key="db-error/1", callback=callback
                )
    finally:
        with sqlite3.connect(database) as db:
            db.execute("DROP TRIGGER refuse_tokens")
    assert refused.value.code == grpc.StatusCode.INTERNAL
    assert "string or blob too big" in str(refused.value)
    assert "[SQL parameters hidden" in str(refused.value)
    logs = platform.logs()
    assert "string or blob too big" in logs  # the failure was logged, with its traceback
    assert leaked(token, {"answer": str(refused.value), "logs": logs}) == []
    assert "RECOGNIZABLE-DB-TOKEN" not in logs + str(refused.value)
