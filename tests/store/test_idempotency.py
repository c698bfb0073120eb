"""An idempotency key binds one call, on SQLite and PostgreSQL: the same call finds its
execution, another call is refused naming the key and the field, and a cancel's
placeholder matches the call it stands for and no other."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from google.protobuf import json_format

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.resources.executions import new_id
from stigmer.resources.idempotency import KeyTaken, placeholder
from stigmer.store.store import Store
from stigmer.store.tokens import StoredToken

KEY = "call/caller-wf/run-1/agent/1"


def agent_call(**changes: object) -> pb.Execution:
    """A PENDING agent call under `KEY`, with a caller, as the API would create it."""
    spec = pb.ExecutionSpec(
        kind=pb.AGENT_EXECUTION,
        agent=pb.AgentCall(agent="helper", agent_version="v1", message="GOOD", env={"A": "1"}),
        parent_execution_id="wex-parent",
        idempotency_key=KEY,
    )
    spec.agent.deadline.FromSeconds(3600)
    for field, value in changes.items():
        holder = spec if field == "parent_execution_id" else spec.agent
        if field == "env":
            holder.env.clear()
            holder.env.update(value)  # type: ignore[arg-type]
        elif field == "deadline":
            holder.deadline.FromSeconds(value)  # type: ignore[arg-type]
        else:
            setattr(holder, field, value)
    execution = pb.Execution(id=new_id(pb.AGENT_EXECUTION), spec=spec)
    execution.status.phase = pb.PENDING
    return execution


def workflow_call(input: object = None, document: dict[str, object] | None = None) -> pb.Execution:
    spec = pb.ExecutionSpec(kind=pb.WORKFLOW_EXECUTION, idempotency_key=KEY)
    spec.workflow.workflow = "" if document else "report"
    if document is not None:
        spec.workflow.document.update(document)
    if input is not None:
        json_format.ParseDict(input, spec.workflow.input)
    execution = pb.Execution(id=new_id(pb.WORKFLOW_EXECUTION), spec=spec)
    execution.status.phase = pb.PENDING
    return execution


def with_caller(execution: pb.Execution, attempt: int) -> tuple[pb.Execution, StoredToken]:
    callback = execution.status.callback
    callback.workflow_id, callback.activity_id, callback.attempt = "caller-wf", "agent/1", attempt
    callback.outcome = pb.CALLBACK_WAITING
    return execution, StoredToken(f"token-of-attempt-{attempt}".encode(), attempt, "default")


async def test_the_same_call_with_a_new_deadline_and_version_finds_its_execution(
    store: Store,
) -> None:
    """A caller's retry fits the deadline to the time it has left, and may find a newer
    definition version: it is still the same call, and its newer token is kept."""
    first, created = await store.executions.create(*with_caller(agent_call(), 1))
    assert created
    retry = agent_call(deadline=1200, agent_version="v2")
    found, created = await store.executions.create(*with_caller(retry, 2))
    assert not created and found.id == first.id
    assert found.status.callback.attempt == 2
    assert await store.tokens.get(first.id) == StoredToken(b"token-of-attempt-2", 2, "default")


async def test_another_call_under_a_taken_key_is_refused_and_attaches_nothing(
    store: Store,
) -> None:
    others: dict[str, Callable[[], pb.Execution]] = {
        "spec.agent.agent": lambda: agent_call(agent="other"),
        "spec.agent.message": lambda: agent_call(message="EVIL"),
        "spec.agent.env": lambda: agent_call(env={"A": "2"}),
        "spec.parent_execution_id": lambda: agent_call(parent_execution_id="wex-other"),
        "spec.kind": workflow_call,
    }
    first, _ = await store.executions.create(agent_call(), None)
    for field, other in others.items():
        with pytest.raises(KeyTaken) as refused:
            await store.executions.create(*with_caller(other(), 1))
        assert refused.value.field == field
        assert KEY in str(refused.value) and field in str(refused.value)
    kept = await store.executions.get(first.id)
    assert kept.revision == first.revision and not kept.status.callback.workflow_id
    assert await store.tokens.get(first.id) is None


async def test_a_workflow_call_is_its_input_and_document(store: Store) -> None:
    cases: list[tuple[pb.Execution, pb.Execution, str | None]] = [
        (workflow_call({"n": 1}), workflow_call({"n": 2}), "spec.workflow.input"),
        (workflow_call({"n": 1}), workflow_call(), "spec.workflow.input"),
        (workflow_call(None), workflow_call(None), None),
        (workflow_call({"n": 1.0}), workflow_call({"n": 1}), None),
        (
            workflow_call(document={"do": [{"a": {"set": {"x": 1}}}]}),
            workflow_call(document={"do": [{"a": {"set": {"x": 2}}}]}),
            "spec.workflow.document",
        ),
    ]
    for number, (stored, asked, field) in enumerate(cases):
        stored.spec.idempotency_key = asked.spec.idempotency_key = f"{KEY}/{number}"
        first, _ = await store.executions.create(stored, None)
        if field is None:
            found, created = await store.executions.create(asked, None)
            assert not created and found.id == first.id
            continue
        with pytest.raises(KeyTaken) as refused:
            await store.executions.create(asked, None)
        assert refused.value.field == field


async def test_concurrent_calls_under_one_key_make_one_execution_and_refuse_the_rest(
    store: Store,
) -> None:
    asked = [agent_call(message=f"message {n % 2}") for n in range(8)]
    results = await asyncio.gather(
        *(store.executions.create(execution, None) for execution in asked),
        return_exceptions=True,
    )
    made = [result for result in results if isinstance(result, tuple)]
    refused = [result for result in results if isinstance(result, KeyTaken)]
    assert len(made) + len(refused) == len(asked)
    assert len({execution.id for execution, _ in made}) == 1
    assert sorted(created for _, created in made) == [False] * 3 + [True]
    assert len(refused) == 4  # the other message's four


async def test_a_cancel_placeholder_stands_for_its_call_and_no_other(store: Store) -> None:
    """The cancel knows the call's kind, target and parent only: its placeholder is found
    by the call's creation, but not by another target's, nor by another parent's."""
    spec = pb.ExecutionSpec(
        kind=pb.AGENT_EXECUTION, idempotency_key=KEY, parent_execution_id="wex-parent"
    )
    spec.agent.agent = "helper"
    cancelled, created = await store.executions.create(placeholder(spec, "caller cancelled"), None)
    assert created and cancelled.status.phase == pb.CANCELLED
    found, created = await store.executions.create(*with_caller(agent_call(), 1))
    assert not created and found.id == cancelled.id
    for other in (agent_call(agent="other"), agent_call(parent_execution_id="wex-other")):
        with pytest.raises(KeyTaken):
            await store.executions.create(other, None)


async def test_a_cancel_of_another_target_does_not_take_the_calls_execution(
    store: Store,
) -> None:
    first, _ = await store.executions.create(agent_call(), None)
    spec = pb.ExecutionSpec(
        kind=pb.AGENT_EXECUTION, idempotency_key=KEY, parent_execution_id="wex-parent"
    )
    spec.agent.agent = "other"
    with pytest.raises(KeyTaken) as refused:
        await store.executions.create(placeholder(spec, "caller cancelled"), None)
    assert refused.value.field == "spec.agent.agent"
    spec.agent.agent = "helper"
    found, created = await store.executions.create(placeholder(spec, "caller cancelled"), None)
    assert not created and found.id == first.id and found.status.phase == pb.PENDING
