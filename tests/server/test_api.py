"""The API over a real platform: gRPC codes that name what is wrong, health, reflection,
and the callback token that goes in and comes out to the platform's workers only."""

from __future__ import annotations

import asyncio
import base64
import json

import grpc
import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.api.v1 import stigmer_pb2_grpc as pb_grpc
from stigmer.client import ApiError, ApiUnreachable, Client, WorkerClient
from stigmer.local.embedded import free_port
from tests.conftest import Platform
from tests.server.helpers import SCRIPTED, WAIT, failure, list_services

pytestmark = pytest.mark.temporal

FAKE_TOKEN = b"RECOGNIZABLE-FAKE-TASK-TOKEN-" + bytes(range(256))


def token_forms() -> list[bytes]:
    """The token as bytes and as any JSON rendering of bytes would carry it."""
    return [
        FAKE_TOKEN,
        base64.b64encode(FAKE_TOKEN),
        base64.urlsafe_b64encode(FAKE_TOKEN),
        b"RECOGNIZABLE-FAKE",
    ]


def assert_no_token(message: Message) -> None:
    wire = message.SerializeToString()
    rendered = json.dumps(json_format.MessageToDict(message)).encode()
    for form in token_forms():
        assert form not in wire
        assert form not in rendered


# -------------------------------------------------------------- infrastructure


async def test_health_answers_serving_for_every_service(platform: Platform) -> None:
    async with grpc.aio.insecure_channel(platform.settings.address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for service in ("", "stigmer.v1.DefinitionService", "stigmer.v1.ExecutionService"):
            answer = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_the_services(platform: Platform) -> None:
    assert await list_services(platform.settings.address) >= {
        "stigmer.v1.DefinitionService",
        "stigmer.v1.ExecutionService",
        "grpc.health.v1.Health",
    }


# ----------------------------------------------------------------- definitions


async def test_apply_get_list_delete(platform: Platform) -> None:
    client = platform.client
    applied = await client.apply("agent", "helper", SCRIPTED, labels={"team": "a"})
    assert applied.changed and applied.definition.generation == 1
    again = await client.apply("agent", "helper", SCRIPTED, labels={"team": "a"})
    assert not again.changed and again.definition.version == applied.definition.version

    found = await client.get("agent", "helper")
    assert json_format.MessageToDict(found.spec) == SCRIPTED
    assert dict(found.metadata.labels) == {"team": "a"}
    assert [d.metadata.name for d in await client.list("agent")] == ["helper"]
    assert await client.list("workflow") == []

    await client.delete("agent", "helper")
    pinned = await client.get("agent", "helper", applied.definition.version)
    assert json_format.MessageToDict(pinned.spec) == SCRIPTED
    code, message = await failure(client.get("agent", "helper"))
    assert code == grpc.StatusCode.NOT_FOUND
    assert "agent 'helper' not found" in message
    code, message = await failure(client.delete("agent", "helper"))
    assert code == grpc.StatusCode.NOT_FOUND


async def test_list_pages_through_many_definitions(platform: Platform) -> None:
    for index in range(5):
        await platform.client.apply("agent", f"agent-{index}", SCRIPTED)
    page = await platform.client.endpoints[0].definitions.List(
        pb.ListDefinitionsRequest(page_size=2)
    )
    assert len(page.definitions) == 2 and page.next_page_token
    everything = await platform.client.list()
    assert [d.metadata.name for d in everything] == [f"agent-{index}" for index in range(5)]
    code, message = await failure(
        platform.client.endpoints[0].definitions.List(
            pb.ListDefinitionsRequest(page_token="not a token!")
        )
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "page_token" in message


@pytest.mark.parametrize(
    ("kind", "name", "spec", "field"),
    [
        ("agent", "Bad_Name", SCRIPTED, "definition.metadata.name"),
        ("agent", "", SCRIPTED, "definition.metadata.name"),
        ("agent", "helper", {"entrypoint": "no-colon"}, "definition.spec.entrypoint"),
        ("agent", "helper", {"model": "test", "colour": "red"}, "definition.spec.colour"),
        ("agent", "helper", {}, "definition.spec"),
        ("workflow", "flow", {"do": "not a list"}, "definition.spec"),
    ],
    ids=["bad-name", "no-name", "bad-entrypoint", "unknown-field", "no-spec", "bad-dsl"],
)
async def test_invalid_apply_names_the_field(
    platform: Platform, kind: str, name: str, spec: dict[str, object], field: str
) -> None:
    code, message = await failure(platform.client.apply(kind, name, spec))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert message.startswith(field)


async def test_apply_without_kind_is_invalid(platform: Platform) -> None:
    definition = pb.Definition(metadata=pb.Metadata(name="helper"))
    definition.spec.update(SCRIPTED)
    code, message = await failure(
        platform.client.endpoints[0].definitions.Apply(
            pb.ApplyDefinitionRequest(definition=definition)
        )
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "definition.kind" in message


async def test_a_failed_apply_leaves_the_stored_definition_unchanged(platform: Platform) -> None:
    before = (await platform.client.apply("agent", "helper", SCRIPTED)).definition
    code, message = await failure(
        platform.client.apply("agent", "helper", {"entrypoint": "x:y", "model": "test"})
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "exactly one of `model` or `entrypoint`" in message
    after = await platform.client.get("agent", "helper")
    assert after == before


# ------------------------------------------------------------------ executions


async def test_create_with_an_unknown_agent_is_not_found(platform: Platform) -> None:
    code, message = await failure(platform.client.run_agent("ghost", "hi"))
    assert code == grpc.StatusCode.NOT_FOUND
    assert "agent 'ghost' not found" in message
    assert (await platform.client.list_executions()).executions == []


async def test_create_without_an_agent_names_the_field(platform: Platform) -> None:
    code, message = await failure(platform.client.run_agent("", "hi"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert message.startswith("spec.agent.agent")


async def test_create_with_a_callback_needs_an_idempotency_key(platform: Platform) -> None:
    await platform.client.apply("agent", "helper", SCRIPTED)
    callback = pb.CallbackRef(task_token=FAKE_TOKEN, workflow_id="caller", activity_id="1")
    code, message = await failure(platform.worker.run_agent("helper", "hi", callback=callback))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert message.startswith("spec.idempotency_key")
    assert (await platform.client.list_executions()).executions == []


async def test_unknown_execution_is_not_found(platform: Platform) -> None:
    code, message = await failure(platform.client.execution("aex-nothing"))
    assert code == grpc.StatusCode.NOT_FOUND
    assert "aex-nothing" in message
    with pytest.raises(ApiError) as caught:
        async with asyncio.timeout(WAIT):
            async for _ in platform.client.watch("aex-nothing"):
                pass
    assert caught.value.code == grpc.StatusCode.NOT_FOUND


async def test_the_callback_token_reaches_workers_only_never_a_client_or_a_log(
    platform: Platform, capfd: pytest.CaptureFixture[str]
) -> None:
    """Only the platform's workers hand a token over, and only they read it back; no
    answer a client gets carries it, and no log line shows it."""
    client, worker = platform.client, platform.worker
    await client.apply("agent", "helper", SCRIPTED)
    callback = pb.CallbackRef(
        task_token=FAKE_TOKEN, workflow_id="caller", activity_id="7", attempt=1
    )
    created = await worker.run_agent("helper", "hi", idempotency_key="caller/7", callback=callback)
    assert created.created
    execution_id = created.execution.id
    assert created.execution.status.callback.token_preview.startswith("tok_")
    responses: list[Message] = [created]

    retried = await worker.run_agent("helper", "hi", idempotency_key="caller/7", callback=callback)
    assert not retried.created and retried.execution.id == execution_id
    responses.append(retried)

    async with asyncio.timeout(WAIT):
        responses.extend([update async for update in client.watch(execution_id)])
    assert responses[-1].status.phase == pb.COMPLETED  # type: ignore[attr-defined]
    responses.append(await client.execution(execution_id))
    responses.append(await client.list_executions())
    responses.append(await client.list_executions(idempotency_key="caller/7"))
    responses.append(await client.result(execution_id))
    responses.append(await client.list_stuck())
    for response in responses:
        assert_no_token(response)
    logged = capfd.readouterr()
    assert "execution created" in logged.out + logged.err
    assert "RECOGNIZABLE-FAKE" not in logged.out + logged.err
    # A client cannot ask for it: only a worker, with the worker credential, reads it.
    as_client = WorkerClient(platform.settings.address)
    try:
        code, message = await failure(as_client.callback_token(execution_id))
    finally:
        await as_client.close()
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert "worker credential" in message
    assert (await worker.callback_token(execution_id)).task_token == FAKE_TOKEN


async def test_a_client_cannot_hand_over_a_token(platform: Platform) -> None:
    await platform.client.apply("agent", "helper", SCRIPTED)
    callback = pb.CallbackRef(task_token=FAKE_TOKEN, workflow_id="caller", activity_id="1")
    code, message = await failure(
        platform.client.run_agent("helper", "hi", idempotency_key="c/1", callback=callback)
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert message.startswith("callback:")
    assert (await platform.client.list_executions()).executions == []


async def test_watch_streams_each_status_change(platform: Platform) -> None:
    await platform.client.apply("agent", "helper", SCRIPTED)
    message = json.dumps({"steps": 3, "sleep": 0.6, "output": "the end"})
    created = await platform.client.run_agent("helper", message)
    seen: list[pb.Execution] = []
    async with asyncio.timeout(WAIT):
        async for update in platform.client.watch(created.execution.id):
            seen.append(update)
    revisions = [update.revision for update in seen]
    assert revisions == sorted(set(revisions)) and len(seen) >= 3
    phases = [update.status.phase for update in seen]
    assert phases[-1] == pb.COMPLETED
    assert pb.IN_PROGRESS in phases
    assert seen[-1].status.output == "the end"
    steps = [m.content for m in seen[-1].status.messages if m.content.startswith("step")]
    assert steps == ["step 1 of 3", "step 2 of 3", "step 3 of 3"]

    resumed = [u async for u in platform.client.watch(created.execution.id, seen[-2].revision)]
    assert [u.revision for u in resumed] == [seen[-1].revision]


async def test_an_ended_execution_keeps_its_end(platform: Platform) -> None:
    """A second ending changes nothing and says so; progress after the end is refused."""
    await platform.client.apply("agent", "helper", SCRIPTED)
    created = await platform.client.run_agent("helper", "hi")
    async with asyncio.timeout(WAIT):
        done = await platform.client.wait(created.execution.id)
    again = await platform.worker.record_ending(
        pb.EndingReport(id=done.id, phase=pb.FAILED, output="rewritten")
    )
    assert not again.recorded
    assert again.execution.status.phase == pb.COMPLETED
    assert again.execution.status.output == "echo: hi"
    code, message = await failure(
        platform.worker.report_progress(
            pb.ProgressReport(id=done.id, append_messages=[pb.AgentMessage(content="late")])
        )
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert "already COMPLETED" in message
    assert (await platform.client.execution(done.id)).status.phase == pb.COMPLETED


async def test_client_reports_an_unreachable_api() -> None:
    async with Client(f"127.0.0.1:{free_port()}") as client:
        with pytest.raises(ApiUnreachable, match="stigmer server"):
            await asyncio.wait_for(client.list(), WAIT)


class _Hanging(pb_grpc.ExecutionServiceServicer):
    """An API that takes every Get and never answers it (within the test)."""

    async def Get(self, request: pb.GetExecutionRequest, context: object) -> pb.Execution:
        await asyncio.sleep(WAIT)
        return pb.Execution()


async def test_a_request_that_gets_no_answer_fails_at_the_call_deadline() -> None:
    server = grpc.aio.server()
    pb_grpc.add_ExecutionServiceServicer_to_server(_Hanging(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with Client(f"127.0.0.1:{port}", call_timeout=0.5) as client:
            with pytest.raises(ApiError) as caught:
                await asyncio.wait_for(client.execution("aex-1"), WAIT)
        assert caught.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    finally:
        await server.stop(grace=None)
