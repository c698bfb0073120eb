"""The Store on SQLite and PostgreSQL: one code path, so one set of tests for both."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.resources.definitions import content_version
from stigmer.resources.executions import TransitionError, add_progress, begin, end, new_id
from stigmer.store.database import Conflict, NotFound
from stigmer.store.results import StoredResult
from stigmer.store.store import Store
from stigmer.store.tables import ExecutionRow
from stigmer.store.tokens import StoredToken

TABLES = {"definitions", "definition_versions", "executions", "callback_tokens"}


def agent_execution(key: str = "", attempt: int = 0) -> pb.Execution:
    """A PENDING AgentExecution as the API would create it; with `attempt`, one with a caller."""
    spec = pb.ExecutionSpec(
        kind=pb.AGENT_EXECUTION,
        agent=pb.AgentCall(agent="helper", message="hello"),
        idempotency_key=key,
    )
    execution = pb.Execution(id=new_id(pb.AGENT_EXECUTION), spec=spec)
    execution.status.phase = pb.PENDING
    if attempt:
        execution.status.callback.workflow_id = "caller"
        execution.status.callback.activity_id = "1"
        execution.status.callback.attempt = attempt
        execution.status.callback.outcome = pb.CALLBACK_WAITING
    return execution


def token(attempt: int) -> StoredToken:
    return StoredToken(f"SECRET-TOKEN-attempt-{attempt}".encode(), attempt, "default")


async def finish(
    store: Store, execution_id: str, phase: pb.Phase.ValueType, output: str = ""
) -> pb.Execution:
    report = pb.EndingReport(id=execution_id, phase=phase, output=output)
    return await store.executions.update(execution_id, lambda status: end(status, report))


async def report(store: Store, execution_id: str, **fields: object) -> pb.Execution:
    progress = pb.ProgressReport(id=execution_id, **fields)  # type: ignore[arg-type]
    return await store.executions.update(
        execution_id, lambda status: add_progress(status, progress)
    )


# ------------------------------------------------------------------- opening


def newest_revision() -> list[str]:
    config = Config()
    config.set_main_option("script_location", "stigmer.store:migrations")
    return list(ScriptDirectory.from_config(config).get_heads())


async def test_migrations_apply_on_open_and_again_as_a_no_op(store_url: str) -> None:
    first = await Store.open(store_url)
    try:
        await first.definitions.apply("AGENT", "kept", {"model": "test"}, {}, "v1")
    finally:
        await first.close()
    second = await Store.open(store_url)
    try:
        async with second.db.engine.connect() as connection:
            tables = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
            heads = (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).all()
        assert tables >= TABLES | {"alembic_version"}
        assert [row[0] for row in heads] == newest_revision()
        assert (await second.definitions.get("AGENT", "kept")).version == "v1"
    finally:
        await second.close()


async def test_sqlite_file_and_data_dir_are_owner_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "data"
    store = await Store.open(f"sqlite+aiosqlite:///{data_dir / 'stigmer.db'}")
    try:
        await store.definitions.apply("AGENT", "a", {"model": "test"}, {}, "v1")
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
        files = list(data_dir.iterdir())
        assert data_dir / "stigmer.db" in files
        for file in files:  # the database and its WAL files
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    finally:
        await store.close()


# --------------------------------------------------------------- definitions


async def test_apply_definition_versions_by_content_hash(store: Store) -> None:
    first_spec = {"model": "test", "instructions": "be brief"}
    second_spec = {"model": "test", "instructions": "be thorough"}
    first, changed = await store.definitions.apply(
        "AGENT", "writer", first_spec, {}, content_version(first_spec)
    )
    assert changed and first.generation == 1
    assert first.version == content_version(first_spec)

    same, changed = await store.definitions.apply(
        "AGENT", "writer", dict(reversed(first_spec.items())), {}, content_version(first_spec)
    )
    assert not changed
    assert (same.version, same.generation) == (first.version, 1)

    second, changed = await store.definitions.apply(
        "AGENT", "writer", second_spec, {}, content_version(second_spec)
    )
    assert changed
    assert second.generation == 2 and second.version != first.version

    current = await store.definitions.get("AGENT", "writer")
    assert current.version == second.version
    assert dict(current.spec) == second_spec
    old = await store.definitions.get("AGENT", "writer", first.version)
    assert old.version == first.version
    assert dict(old.spec) == first_spec


async def test_changed_labels_alone_are_a_new_generation(store: Store) -> None:
    spec = {"model": "test"}
    await store.definitions.apply("AGENT", "a", spec, {}, content_version(spec))
    labelled, changed = await store.definitions.apply(
        "AGENT", "a", spec, {"labels": {"team": "x"}}, content_version(spec)
    )
    assert changed and labelled.generation == 2
    assert dict(labelled.metadata.labels) == {"team": "x"}


async def test_get_unknown_definition_or_version_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="agent 'ghost' not found"):
        await store.definitions.get("AGENT", "ghost")
    await store.definitions.apply("AGENT", "real", {"model": "test"}, {}, "v1")
    with pytest.raises(NotFound, match="no version 'v9'"):
        await store.definitions.get("AGENT", "real", "v9")


async def test_list_definitions_pages_in_kind_name_order(store: Store) -> None:
    names = [f"agent-{index}" for index in range(5)]
    for name in reversed(names):
        await store.definitions.apply("AGENT", name, {"model": "test"}, {}, "v")
    for name in ("flow-a", "flow-b"):
        await store.definitions.apply("WORKFLOW", name, {"do": []}, {}, "v")

    seen: list[tuple[str, str]] = []
    after = ""
    for _ in range(10):
        page = await store.definitions.page(None, 3, after)
        seen.extend((pb.DefinitionKind.Name(d.kind), d.metadata.name) for d in page)
        if len(page) < 3:
            break
        after = f"{seen[-1][0]}/{seen[-1][1]}"
    expected = [("AGENT", name) for name in names] + [
        ("WORKFLOW", "flow-a"),
        ("WORKFLOW", "flow-b"),
    ]
    assert seen == expected

    workflows = await store.definitions.page("WORKFLOW", 10)
    assert [d.metadata.name for d in workflows] == ["flow-a", "flow-b"]


async def test_delete_definition(store: Store) -> None:
    spec = {"model": "test"}
    applied, _ = await store.definitions.apply("AGENT", "gone", spec, {}, content_version(spec))
    await store.definitions.delete("AGENT", "gone")
    with pytest.raises(NotFound):
        await store.definitions.get("AGENT", "gone")
    assert await store.definitions.page("AGENT", 10) == []
    with pytest.raises(NotFound, match="agent 'gone' not found"):
        await store.definitions.delete("AGENT", "gone")
    again, changed = await store.definitions.apply("AGENT", "gone", spec, {}, applied.version)
    assert changed and again.generation == 1


async def test_a_deleted_definition_keeps_its_versions_for_executions(store: Store) -> None:
    spec = {"model": "test", "instructions": "pinned"}
    applied, _ = await store.definitions.apply("AGENT", "gone", spec, {}, content_version(spec))
    await store.definitions.delete("AGENT", "gone")
    pinned = await store.definitions.get("AGENT", "gone", applied.version)
    assert (pinned.metadata.name, pinned.version) == ("gone", applied.version)
    assert dict(pinned.spec) == spec
    with pytest.raises(NotFound, match="agent 'gone' not found"):
        await store.definitions.get("AGENT", "gone", "unknown-version")


async def test_concurrent_first_applies_of_one_definition_all_succeed(store: Store) -> None:
    spec = {"model": "test"}
    results = await asyncio.gather(
        *(store.definitions.apply("AGENT", "a", spec, {}, content_version(spec)) for _ in range(10))
    )
    assert sorted(changed for _, changed in results) == [False] * 9 + [True]
    assert {definition.generation for definition, _ in results} == {1}


# ---------------------------------------------------------------- executions


async def test_create_execution_is_idempotent_by_key(store: Store) -> None:
    first, created = await store.executions.create(agent_execution("caller/1"), None)
    assert created and first.revision == 1
    again, created = await store.executions.create(agent_execution("caller/1"), None)
    assert not created
    assert again.id == first.id
    other, created = await store.executions.create(agent_execution("caller/2"), None)
    assert created and other.id != first.id
    found, _ = await store.executions.find(idempotency_key="caller/1")
    assert [execution.id for execution in found] == [first.id]


async def test_concurrent_creates_with_one_key_make_one_execution(store: Store) -> None:
    results = await asyncio.gather(
        *(store.executions.create(agent_execution("same"), None) for _ in range(10))
    )
    assert len({execution.id for execution, _ in results}) == 1
    assert sorted(created for _, created in results) == [False] * 9 + [True]


async def test_executions_without_a_key_never_collide(store: Store) -> None:
    ids = {(await store.executions.create(agent_execution(), None))[0].id for _ in range(3)}
    assert len(ids) == 3


async def test_a_newer_attempt_rotates_the_token_an_older_one_does_not(store: Store) -> None:
    first, _ = await store.executions.create(agent_execution("k", attempt=1), token(1))
    assert await store.tokens.get(first.id) == token(1)

    rotated, created = await store.executions.create(agent_execution("k", attempt=3), token(3))
    assert not created and rotated.id == first.id
    assert rotated.status.callback.attempt == 3
    assert rotated.revision == first.revision + 1
    assert await store.tokens.get(first.id) == token(3)

    stale, created = await store.executions.create(agent_execution("k", attempt=2), token(2))
    assert not created
    assert stale.status.callback.attempt == 3
    assert await store.tokens.get(first.id) == token(3)


async def test_a_finished_execution_is_not_rotated(store: Store) -> None:
    first, _ = await store.executions.create(agent_execution("k", attempt=1), token(1))
    await finish(store, first.id, pb.COMPLETED, "done")
    found, created = await store.executions.create(agent_execution("k", attempt=2), token(2))
    assert not created
    assert found.status.phase == pb.COMPLETED and found.status.output == "done"
    assert found.status.callback.attempt == 1
    assert await store.tokens.get(first.id) == token(1)


async def test_the_token_is_not_in_the_readable_execution(store: Store) -> None:
    secret = token(1).task_token
    created, _ = await store.executions.create(agent_execution("k", attempt=1), token(1))
    await store.executions.create(agent_execution("k", attempt=2), token(2))
    async with store.db.engine.connect() as connection:
        rows = (await connection.execute(select(ExecutionRow.spec, ExecutionRow.status))).all()
    assert rows
    for spec, status in rows:
        stored = json.dumps([spec, status])
        assert "SECRET-TOKEN" not in stored
    read = await store.executions.get(created.id)
    assert b"SECRET-TOKEN" not in read.SerializeToString()
    assert secret not in read.SerializeToString()


async def test_concurrent_writers_lose_no_update(store: Store) -> None:
    created, _ = await store.executions.create(agent_execution(), None)
    writers = 50

    async def append(index: int) -> None:
        message = pb.AgentMessage(role="assistant", content=f"message {index}")
        await report(store, created.id, append_messages=[message])

    await asyncio.wait_for(asyncio.gather(*(append(i) for i in range(writers))), 60)
    final = await store.executions.get(created.id)
    contents = sorted(message.content for message in final.status.messages)
    assert contents == sorted(f"message {i}" for i in range(writers))
    assert final.revision == 1 + writers


async def test_expected_revision_mismatch_is_a_conflict(store: Store) -> None:
    created, _ = await store.executions.create(agent_execution(), None)
    moved = await store.executions.update(created.id, begin)
    assert moved.revision == 2
    late = pb.EndingReport(id=created.id, phase=pb.COMPLETED, output="late")
    with pytest.raises(Conflict, match="at revision 2, not 1"):
        await store.executions.update(created.id, lambda status: end(status, late), 1)
    on_time = pb.EndingReport(id=created.id, phase=pb.COMPLETED, output="on time")
    done = await store.executions.update(created.id, lambda status: end(status, on_time), 2)
    assert done.revision == 3 and done.status.output == "on time"
    with pytest.raises(NotFound):
        await finish(store, "aex-missing", pb.COMPLETED)


async def test_a_finished_phase_cannot_change(store: Store) -> None:
    created, _ = await store.executions.create(agent_execution(), None)
    done = await finish(store, created.id, pb.COMPLETED, "the answer")
    assert done.status.HasField("finished_at")
    again = await finish(store, created.id, pb.FAILED, "rewritten")
    assert again.status.phase == pb.COMPLETED and again.status.output == "the answer"
    with pytest.raises(TransitionError, match="already COMPLETED"):
        await report(store, created.id, usage=pb.Usage(requests=2))
    after = await store.executions.get(created.id)
    assert after.status.phase == pb.COMPLETED
    assert after.status.output == "the answer"
    assert not after.status.HasField("usage")


async def test_large_results_are_stored_apart(store: Store) -> None:
    created, _ = await store.executions.create(agent_execution(), None)
    assert await store.results.get(created.id) is None
    output = "x" * (3 * 1024 * 1024)
    structured = {"rows": [{"index": i, "text": "y" * 100} for i in range(5000)]}
    ref = f"executions/{created.id}/result"
    large = pb.EndingReport(id=created.id, phase=pb.COMPLETED, result_ref=ref)
    ended = await store.executions.update(
        created.id, lambda status: end(status, large), result=StoredResult(output, structured)
    )
    assert ended.status.result_ref == ref and not ended.status.output
    assert await store.results.get(created.id) == StoredResult(output, structured)
    # An ended execution keeps the result it ended with, whatever comes later.
    other = pb.EndingReport(id=created.id, phase=pb.COMPLETED, result_ref=ref)
    await store.executions.update(
        created.id, lambda status: end(status, other), result=StoredResult("smaller", [1, 2])
    )
    assert await store.results.get(created.id) == StoredResult(output, structured)


async def test_executions_list_newest_first_whatever_their_kind(store: Store) -> None:
    made = []
    for kind in (pb.WORKFLOW_EXECUTION, pb.AGENT_EXECUTION, pb.WORKFLOW_EXECUTION):
        execution = agent_execution()
        execution.id = new_id(kind)
        execution.spec.kind = kind
        made.append((await store.executions.create(execution, None))[0].id)
        await asyncio.sleep(0.002)
    first, cursor = await store.executions.find(limit=2)
    assert [e.id for e in first] == [made[2], made[1]]
    rest, _ = await store.executions.find(limit=2, after=cursor)
    assert [e.id for e in rest] == [made[0]]
