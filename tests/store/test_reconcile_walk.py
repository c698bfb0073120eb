"""The reconciler's reads on SQLite and PostgreSQL: the walk pages through every execution
whose record may not follow its run, each once per round, and starts over at the end;
and the executions among some ids that still need reconciling, however many ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.resources.executions import end, new_id, record_callback
from stigmer.store.store import Store


def agent_execution(*, caller: bool = False) -> pb.Execution:
    spec = pb.ExecutionSpec(kind=pb.AGENT_EXECUTION, agent=pb.AgentCall(agent="helper"))
    execution = pb.Execution(id=new_id(pb.AGENT_EXECUTION), spec=spec)
    execution.status.phase = pb.PENDING
    if caller:
        execution.status.callback.workflow_id = "caller"
        execution.status.callback.outcome = pb.CALLBACK_WAITING
    return execution


async def stored(store: Store, execution: pb.Execution) -> str:
    created, _ = await store.executions.create(execution, None)
    return created.id


async def ended(store: Store, execution_id: str, *, told: bool) -> None:
    report = pb.EndingReport(id=execution_id, phase=pb.COMPLETED, output="done")
    await store.executions.update(execution_id, lambda status: end(status, report))
    if told:
        answer = pb.CallbackReport(
            id=execution_id, state=pb.CallbackState(outcome=pb.CALLBACK_DELIVERED)
        )
        await store.executions.update(execution_id, lambda s: record_callback(s, answer))


async def test_the_walk_visits_every_unreconciled_execution_once_a_round(store: Store) -> None:
    open_ids = [await stored(store, agent_execution()) for _ in range(7)]
    waiting = await stored(store, agent_execution(caller=True))
    await ended(store, waiting, told=False)  # ended, its caller not told yet: walked
    told = await stored(store, agent_execution(caller=True))
    await ended(store, told, told=True)  # ended and told: nothing left to do
    quiet_since = datetime.now(UTC) + timedelta(seconds=1)

    seen: list[str] = []
    cursor = ""
    for _ in range(4):  # 8 to walk, 3 a page: 3 pages, the last one short
        page, cursor = await store.executions.unreconciled(quiet_since, 3, cursor)
        seen += [execution.id for execution in page]
        if not cursor:
            break
    assert not cursor, "a short page ends the round"
    assert seen == [*open_ids, waiting], "oldest first, each once"

    again, _ = await store.executions.unreconciled(quiet_since, 3, cursor)
    assert [execution.id for execution in again] == open_ids[:3], "the next round starts over"
    recent, _ = await store.executions.unreconciled(datetime.now(UTC) - timedelta(hours=1), 3)
    assert recent == [], "what changed since `quiet_since` is left to its workflow"


async def test_the_unreconciled_among_many_ids_are_found(store: Store) -> None:
    open_id = await stored(store, agent_execution())
    waiting = await stored(store, agent_execution(caller=True))
    await ended(store, waiting, told=False)
    told = await stored(store, agent_execution(caller=True))
    await ended(store, told, told=True)
    unknown = [new_id(pb.AGENT_EXECUTION) for _ in range(1200)]  # several IN lists
    found = await store.executions.unreconciled_among([*unknown, told, waiting, open_id])
    assert sorted(execution.id for execution in found) == sorted([open_id, waiting])
