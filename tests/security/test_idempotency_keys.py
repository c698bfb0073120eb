"""Finding 7, replayed from outside with the generated stubs: a client takes a key first
for agent A with message "EVIL"; the caller's `Create` with that key for agent B, message
"GOOD" and a callback is refused ALREADY_EXISTS naming the key, and nothing of the caller
(its callback, its token) reaches the EVIL execution. The same call again finds its
execution; a cancel of another target does not touch it. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.api.v1 import stigmer_pb2_grpc as pb_grpc
from stigmer.local.embedded import EmbeddedTemporal
from tests.conftest import POSTGRES_URL
from tests.handshake.helpers import script
from tests.security.platforms import SCRIPTED, ServedPlatform, started, tuned_platform
from tests.support.postgres import private_database

pytestmark = [pytest.mark.temporal, pytest.mark.timeout(300)]

WAIT = 60
Metadata = tuple[tuple[str, str], ...]


@pytest.fixture(scope="module")
async def postgres_served(
    temporal_server: EmbeddedTemporal, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServedPlatform]:
    """`stigmer server` with its store on PostgreSQL."""
    async with private_database(POSTGRES_URL) as url:
        root = tmp_path_factory.mktemp("keys-postgres")
        platform = tuned_platform(
            temporal_server.address, root, "postgres", STIGMER_DATABASE_URL=url
        )
        await started(platform)
        try:
            yield platform
        finally:
            await platform.stop()


@pytest.fixture(
    params=["default_served", pytest.param("postgres_served", marks=pytest.mark.postgres)]
)
def keyed(request: pytest.FixtureRequest) -> ServedPlatform:
    platform: ServedPlatform = request.getfixturevalue(request.param)
    return platform


def agent_call(key: str, agent: str, message: str, parent: str = "") -> pb.ExecutionSpec:
    return pb.ExecutionSpec(
        kind=pb.AGENT_EXECUTION,
        agent=pb.AgentCall(agent=agent, message=message),
        idempotency_key=key,
        parent_execution_id=parent,
    )


async def refused(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def test_a_key_taken_by_another_call_is_refused_and_adopts_nothing(
    keyed: ServedPlatform, tmp_path: Path
) -> None:
    key = f"call/caller-wf/{tmp_path.name}/agent/1"
    async with keyed.client() as client:
        await client.apply("agent", "agent-a", SCRIPTED)
        await client.apply("agent", "agent-b", SCRIPTED)
    user: Metadata = (("authorization", f"Bearer {keyed.user_token}"),) if keyed.user_token else ()
    worker: Metadata = (("authorization", f"Bearer {keyed.worker_credential()}"),)
    evil = agent_call(key, "agent-a", script(sleep=120, output="EVIL"))
    good = agent_call(key, "agent-b", script(output="GOOD"))
    caller = pb.CallbackRef(
        task_token=b"the-callers-task-token", workflow_id="caller-wf", activity_id="agent/1"
    )
    caller.attempt = 1
    async with grpc.aio.insecure_channel(keyed.loopback) as channel:
        executions = pb_grpc.ExecutionServiceStub(channel)
        workers = pb_grpc.WorkerServiceStub(channel)
        first = await executions.Create(
            pb.CreateExecutionRequest(spec=evil), metadata=user, timeout=WAIT
        )
        assert first.created

        # The caller's Create: another target, message and a callback.
        answer = await refused(
            executions.Create(
                pb.CreateExecutionRequest(spec=good, callback=caller), metadata=worker, timeout=WAIT
            )
        )
        assert answer.code() == grpc.StatusCode.ALREADY_EXISTS
        assert key in (answer.details() or "")
        # Another message, or another parent, for the same agent: another call too.
        for other in (
            agent_call(key, "agent-a", script(output="GOOD")),
            agent_call(key, "agent-a", evil.agent.message, parent="wex-someone-else"),
        ):
            answer = await refused(
                executions.Create(pb.CreateExecutionRequest(spec=other), metadata=user)
            )
            assert answer.code() == grpc.StatusCode.ALREADY_EXISTS

        # Nothing of the caller reached the EVIL execution.
        now = await executions.Get(pb.GetExecutionRequest(id=first.execution.id), metadata=user)
        assert not now.status.callback.workflow_id and not now.status.callback.token_preview
        answer = await refused(
            workers.GetCallbackToken(
                pb.GetCallbackTokenRequest(id=first.execution.id), metadata=worker
            )
        )
        assert answer.code() == grpc.StatusCode.NOT_FOUND

        # A cancel of the call to agent B must not end agent A's execution.
        cancel_b = pb.ExecutionSpec(kind=pb.AGENT_EXECUTION, idempotency_key=key)
        cancel_b.agent.agent = "agent-b"
        answer = await refused(
            workers.CancelCall(pb.CancelCallRequest(spec=cancel_b), metadata=worker)
        )
        assert answer.code() == grpc.StatusCode.ALREADY_EXISTS
        now = await executions.Get(pb.GetExecutionRequest(id=first.execution.id), metadata=user)
        assert not now.status.cancel_requested and now.status.phase != pb.CANCELLED

        # The same call again, with another deadline, finds its execution.
        again = pb.ExecutionSpec()
        again.CopyFrom(evil)
        again.agent.deadline.FromSeconds(600)
        found = await executions.Create(pb.CreateExecutionRequest(spec=again), metadata=user)
        assert not found.created and found.execution.id == first.execution.id

        # And the cancel of the call it is ends it.
        cancel_a = pb.ExecutionSpec(kind=pb.AGENT_EXECUTION, idempotency_key=key)
        cancel_a.agent.agent = "agent-a"
        cancelled = await workers.CancelCall(
            pb.CancelCallRequest(spec=cancel_a), metadata=worker, timeout=WAIT
        )
        assert cancelled.id == first.execution.id
        assert cancelled.status.cancel_requested or cancelled.status.phase == pb.CANCELLED
