"""From outside, with the project's own stubs: no one but a worker ends a call or reads
its token. The caller of a running agent call gets the agent's own output whatever a
client tried, on a default server (loopback, no user token) and off loopback."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.api.v1 import stigmer_pb2_grpc as pb_grpc
from stigmer.client import Client
from tests.handshake.helpers import agent_task, document, eventually, one_child, output_of, script
from tests.security.platforms import SCRIPTED, ServedPlatform

pytestmark = [pytest.mark.temporal, pytest.mark.timeout(300)]

WORKER_METHODS = sorted(m.name for m in pb.DESCRIPTOR.services_by_name["WorkerService"].methods)
OWN_WORDS = "the agent's own words"
WAIT = 60


def forgeries(execution: pb.Execution) -> dict[str, Message]:
    """A request to every WorkerService method, each aimed at the running call."""
    forged = pb.AgentMessage(role="assistant", content="forged")
    subscription = pb.Subscription(workflow_id=execution.status.temporal_workflow_id, key="x")
    return {
        "GetCallbackToken": pb.GetCallbackTokenRequest(id=execution.id),
        "Begin": pb.BeginRequest(id=execution.id),
        "ReportProgress": pb.ProgressReport(id=execution.id, attempt=1, append_messages=[forged]),
        "PutResult": pb.PutResultRequest(id=execution.id, attempt=1, output="forged"),
        "RecordEnding": pb.EndingReport(
            id=execution.id, phase=pb.COMPLETED, output="forged", attempt=1
        ),
        "RecordCallback": pb.CallbackReport(
            id=execution.id, state=pb.CallbackState(outcome=pb.CALLBACK_DELIVERED)
        ),
        "CancelCall": pb.CancelCallRequest(spec=execution.spec, reason="forged"),
        "Subscribe": subscription,
        "Unsubscribe": subscription,
    }


async def refusals(
    address: str, token: str | None, requests: dict[str, Message]
) -> dict[str, grpc.StatusCode]:
    """What the API answers each request sent with the generated stub and `token`."""
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    answers: dict[str, grpc.StatusCode] = {}
    async with grpc.aio.insecure_channel(address) as channel:
        stub = pb_grpc.WorkerServiceStub(channel)
        for name, request in requests.items():
            method: Callable[..., Awaitable[Any]] = getattr(stub, name)
            try:
                await method(request, metadata=metadata, timeout=WAIT)
            except grpc.aio.AioRpcError as refused:
                answers[name] = refused.code()
            else:
                answers[name] = grpc.StatusCode.OK
    return answers


async def held_call(platform: ServedPlatform, client: Client, until: Path) -> tuple[str, str]:
    """A DSL workflow whose `call: agent` is running, held until `until` exists: the
    workflow's id and the agent execution's."""
    await client.apply("agent", "scripted", SCRIPTED)
    message = script(until=str(until), output=OWN_WORDS)
    run = await client.run_workflow(document=document(agent_task("ask", message)))
    call = await one_child(client, run.execution.id, seconds=WAIT)

    async def running() -> bool:
        return (await client.execution(call.id)).status.phase == pb.IN_PROGRESS

    await eventually(running, seconds=WAIT)
    return run.execution.id, call.id


async def test_a_client_cannot_forge_the_end_of_a_running_call(
    served: ServedPlatform, tmp_path: Path
) -> None:
    platform = served
    until = tmp_path / "release"
    async with platform.client() as client:
        run_id, call_id = await held_call(platform, client, until)
        call = await client.execution(call_id)
        requests = forgeries(call)
        assert sorted(requests) == WORKER_METHODS, "every WorkerService method is tried"

        # The project's own stubs without any credential, as anyone on the network.
        plain = await refusals(platform.address, None, requests)
        expected = grpc.StatusCode.PERMISSION_DENIED
        if platform.user_token:  # off loopback a client without the user token is unknown
            expected = grpc.StatusCode.UNAUTHENTICATED
        assert plain == dict.fromkeys(WORKER_METHODS, expected)
        if platform.user_token:  # the user's own token does not make a worker either
            user = await refusals(platform.address, platform.user_token, requests)
            assert user == dict.fromkeys(WORKER_METHODS, grpc.StatusCode.PERMISSION_DENIED)

        untouched = await client.execution(call_id)
        assert untouched.status.phase == pb.IN_PROGRESS
        assert "forged" not in str(untouched)
        async with platform.worker_client() as worker:  # the same request, as a worker
            assert (await worker.callback_token(call_id)).task_token

        until.touch()
        async with asyncio.timeout(WAIT):
            finished = await client.wait(run_id)
        answered = await client.execution(call_id)
    assert finished.status.phase == pb.COMPLETED, finished.status.error
    assert output_of(finished)["output"] == OWN_WORDS
    assert answered.status.output == OWN_WORDS
    assert answered.status.callback.outcome == pb.CALLBACK_DELIVERED


def test_the_worker_credential_is_random_and_readable_by_its_owner_only(
    default_served: ServedPlatform, public_served: ServedPlatform
) -> None:
    for platform in (default_served, public_served):
        credential = platform.data_dir / "worker-token"
        assert stat.S_IMODE(credential.stat().st_mode) == 0o600
        assert len(platform.worker_credential()) >= 32
    assert default_served.worker_credential() != public_served.worker_credential()
