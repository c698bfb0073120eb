"""What lets API replicas share one PostgreSQL database, each part on a private database:
migrations started at once, idempotent creates through two stores, changes heard across
stores, one leader handed over when its session dies, and turns taken per scope."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.config import Settings
from stigmer.resources.executions import end, new_id
from stigmer.server.changes import Changes
from stigmer.server.collector import StateCollector
from stigmer.store.database import Conflict
from stigmer.store.leadership import Leadership
from stigmer.store.notify import ChangeListener
from stigmer.store.store import Store
from tests.support.postgres import private_database

LEAD_SECONDS = 10.0
"""A replica takes the lead within a few election rounds (`ELECT_SECONDS` each)."""


def agent_execution(key: str = "") -> pb.Execution:
    """A PENDING AgentExecution as the API creates it."""
    spec = pb.ExecutionSpec(
        kind=pb.AGENT_EXECUTION,
        agent=pb.AgentCall(agent="helper", message="hello"),
        idempotency_key=key,
    )
    execution = pb.Execution(id=new_id(pb.AGENT_EXECUTION), spec=spec)
    execution.status.phase = pb.PENDING
    return execution


@pytest.fixture
async def url() -> AsyncIterator[str]:
    async with private_database() as created:
        yield created


@pytest.fixture
async def two_stores(url: str) -> AsyncIterator[tuple[Store, Store]]:
    """Two replicas' stores on one database, migrated at the same moment."""
    first, second = await asyncio.gather(Store.open(url), Store.open(url))
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


@pytest.mark.postgres
async def test_creates_with_one_key_through_two_stores_make_one_execution(
    two_stores: tuple[Store, Store],
) -> None:
    a, b = two_stores
    results = await asyncio.gather(
        *(store.executions.create(agent_execution("caller/7"), None) for store in (a, b) * 3)
    )
    assert len({execution.id for execution, _ in results}) == 1
    assert [created for _, created in results].count(True) == 1
    found, _ = await b.executions.find(idempotency_key="caller/7")
    assert len(found) == 1


@pytest.mark.postgres
async def test_a_change_through_one_store_wakes_watchers_of_another(
    url: str, two_stores: tuple[Store, Store]
) -> None:
    a, b = two_stores
    execution, _ = await a.executions.create(agent_execution(), None)
    changes = Changes()
    listener = ChangeListener(url, changes.notify, changes.wake_all)
    await listener.start()
    try:
        with changes.watching(execution.id) as wakeup:
            report = pb.EndingReport(id=execution.id, phase=pb.COMPLETED, output="done")
            await b.executions.update(execution.id, lambda status: end(status, report))
            started = time.monotonic()
            await wakeup.wait(5.0)
            assert time.monotonic() - started < 1.0, "the watcher waited for its poll"
    finally:
        await listener.stop()


@pytest.mark.postgres
async def test_one_replica_leads_and_another_takes_over_when_it_goes(url: str) -> None:
    first, second = Leadership(url, elect_seconds=0.2), Leadership(url, elect_seconds=0.2)
    first.start()
    await until(lambda: first.leads)
    second.start()
    try:
        await asyncio.sleep(1.0)  # several rounds: the second must not lead meanwhile
        assert not second.leads
        await first.stop()  # its session closes, as a killed process's would
        await until(lambda: second.leads)
    finally:
        await first.stop()
        await second.stop()


@pytest.mark.postgres
async def test_holders_of_one_scope_take_turns_across_stores(
    two_stores: tuple[Store, Store],
) -> None:
    a, b = two_stores
    inside: list[str] = []

    async def hold(store: Store, name: str) -> None:
        async with store.db.exclusive("schedule/nightly"):
            inside.append(f"{name} in")
            await asyncio.sleep(0.3)
            inside.append(f"{name} out")

    await asyncio.gather(hold(a, "a"), hold(b, "b"))
    assert inside[1].endswith("out") and inside[3].endswith("out"), inside


@pytest.mark.postgres
async def test_a_scope_held_too_long_is_a_conflict_naming_it(
    two_stores: tuple[Store, Store],
) -> None:
    a, b = two_stores
    async with a.db.exclusive("schedule/nightly"):
        with pytest.raises(Conflict, match=r"schedule/nightly is being changed .* over 200ms"):
            async with b.db.exclusive("schedule/nightly", wait="200ms"):
                raise AssertionError("entered a scope another store holds")


async def test_an_idle_platform_exports_every_stored_state_gauge_at_zero(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'stigmer.db'}")
    try:
        await store.definitions.apply("AGENT", "helper", {"entrypoint": "x:y"}, {}, "v1")
        settings = Settings(data_dir=tmp_path, collect_interval=timedelta(seconds=1))
        collector = StateCollector(store, settings, Leadership(settings.resolved_database_url))
        await collector.collect()
        assert gauge("stigmer_pending_calls", kind="agent", target="helper") == 0
        assert gauge("stigmer_pending_calls", kind="workflow", target="(inline)") == 0
        for kind in ("agent", "workflow"):
            assert gauge("stigmer_oldest_pending_call_age_seconds", kind=kind) == 0
            for phase in pb.Phase.keys()[1:]:
                assert gauge("stigmer_executions", kind=kind, phase=phase) == 0
        for reason in ("pending", "in_progress", "callback_waiting", "callback_failed"):
            assert gauge("stigmer_stuck_executions", reason=reason) == 0
        collector.forget()  # as a replica that does not lead: the leader exports them
        assert gauge("stigmer_pending_calls", kind="agent", target="helper") is None
    finally:
        await store.close()


def gauge(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def until(check: Callable[[], bool], seconds: float = LEAD_SECONDS) -> None:
    for _ in range(int(seconds / 0.1)):
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {seconds}s")
