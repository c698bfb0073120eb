"""AgentExecutions and WorkflowExecutions: their spec, their status, their revisions.

Executions change by optimistic concurrency: each write re-reads, applies its change to
the fresh copy and commits only if the revision did not move, so concurrent writers (API
replicas included) never lose an update.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol, cast

from google.protobuf import json_format
from sqlalchemy import ColumnElement, Table, bindparam, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.contract.phases import OPEN_NAMES, TERMINAL, TERMINAL_NAMES
from stigmer.resources.executions import take_caller
from stigmer.resources.idempotency import check_same_call
from stigmer.store import notify, results, tokens
from stigmer.store.database import MAX_WRITE_ATTEMPTS, Conflict, Database, NotFound, now, utc
from stigmer.store.decoded import Decoded
from stigmer.store.results import StoredResult
from stigmer.store.tables import ExecutionRow
from stigmer.store.tokens import StoredToken


class Executions:
    def __init__(self, database: Database) -> None:
        self.db = database
        self.specs = Decoded()
        self.statuses = Decoded()

    async def create(
        self, execution: pb.Execution, token: StoredToken | None
    ) -> tuple[pb.Execution, bool]:
        """Insert, or return the execution that already holds the idempotency key; a key
        that holds another call is refused (`KeyTaken`, see `stigmer.resources.idempotency`).

        A newer caller attempt than the stored one rotates the token, in the same
        transaction as the status change, so a delivery never reads a stale token
        after the execution saw the new attempt.
        """
        key = execution.spec.idempotency_key or None
        stamp = now()
        row = ExecutionRow(
            id=execution.id,
            kind=pb.ExecutionKind.Name(execution.spec.kind),
            target=target_of(execution.spec),
            parent_execution_id=execution.spec.parent_execution_id,
            idempotency_key=key,
            phase=pb.Phase.Name(execution.status.phase),
            spec=_to_json(execution.spec),
            status=_to_json(execution.status),
            revision=1,
            created_at=stamp,
            updated_at=stamp,
        )
        try:
            async with self.db.writing() as session:
                session.add(row)
                await session.flush()
                if token is not None:
                    await tokens.keep(session, row.id, token)
            return self._execution(row), True
        except IntegrityError:
            if key is None:
                raise
        existing = await self.by_key(key)
        check_same_call(existing, execution)  # a key taken by another call is refused
        if token is not None and execution.status.HasField("callback"):
            existing = await self._rotate(existing.id, token, execution.status.callback)
        return existing, False

    async def by_key(self, key: str) -> pb.Execution:
        async with self.db.sessions() as session:
            row = await session.scalar(
                select(ExecutionRow).where(ExecutionRow.idempotency_key == key)
            )
            if row is None:
                raise NotFound(f"no execution with idempotency key {key!r}")
            return self._execution(row)

    async def _rotate(
        self, execution_id: str, token: StoredToken, callback: pb.CallbackState
    ) -> pb.Execution:
        for _ in range(MAX_WRITE_ATTEMPTS):
            async with self.db.writing() as session:
                row = await session.get(ExecutionRow, execution_id)
                if row is None:
                    raise NotFound(f"execution {execution_id!r} not found")
                if row.phase in TERMINAL_NAMES:
                    # Finished: the new attempt takes the result at once, nothing waits.
                    return self._execution(row)
                status = pb.ExecutionStatus()
                self.statuses.merge((row.id, row.revision), row.status, status)
                if not take_caller(status, callback):
                    return self._execution(row)  # an older caller's creation, arriving late
                if not await _swap(session, row, status):
                    continue
                await tokens.keep(session, execution_id, token)
                await notify.announce(session, execution_id)
                return self._swapped(row, status)
        raise Conflict(f"execution {execution_id!r} kept changing; gave up rotating its token")

    async def get(self, execution_id: str) -> pb.Execution:
        async with self.db.sessions() as session:
            return self._execution(await _row(session, execution_id))

    async def find(
        self,
        *,
        kind: str | None = None,
        phases: Sequence[str] = (),
        target: str = "",
        parent_execution_id: str = "",
        idempotency_key: str = "",
        limit: int = 100,
        after: str = "",
    ) -> tuple[list[pb.Execution], str]:
        """Newest first, whatever their kind, and the cursor after the last one; `after`
        (the cursor a previous page gave) pages on."""
        query = (
            select(ExecutionRow)
            .order_by(ExecutionRow.created_at.desc(), ExecutionRow.id.desc())
            .limit(limit)
        )
        if kind:
            query = query.where(ExecutionRow.kind == kind)
        if phases:
            query = query.where(ExecutionRow.phase.in_(phases))
        if target:
            query = query.where(ExecutionRow.target == target)
        if parent_execution_id:
            query = query.where(ExecutionRow.parent_execution_id == parent_execution_id)
        if idempotency_key:
            query = query.where(ExecutionRow.idempotency_key == idempotency_key)
        if after:
            created, last_id = _position(after)
            query = query.where(
                (ExecutionRow.created_at < created)
                | ((ExecutionRow.created_at == created) & (ExecutionRow.id < last_id))
            )
        async with self.db.sessions() as session:
            rows = (await session.scalars(query)).all()
            cursor = _cursor(rows[-1]) if rows else ""
            return [self._execution(row) for row in rows], cursor

    async def update(
        self,
        execution_id: str,
        change: Callable[[pb.ExecutionStatus], object],
        expected_revision: int = 0,
        *,
        result: StoredResult | None = None,
    ) -> pb.Execution:
        """Apply `change` to the current status and commit it without losing a concurrent write.

        `change` may raise to refuse the update; it is re-run on a fresh copy when another
        writer got in first. With `expected_revision`, a moved revision is a Conflict. A
        change that changes nothing writes nothing.
        `result` is stored in the same transaction when the execution was still open and
        the change leaves its status pointing at a result kept apart (`result_ref`): an
        execution that has ended keeps the result it ended with.
        """
        for _ in range(MAX_WRITE_ATTEMPTS):
            async with self.db.writing() as session:
                row = await _row(session, execution_id)
                if expected_revision and row.revision != expected_revision:
                    raise Conflict(
                        f"execution {execution_id!r} is at revision {row.revision}, "
                        f"not {expected_revision}"
                    )
                status = pb.ExecutionStatus()
                self.statuses.merge((row.id, row.revision), row.status, status)
                was_open = status.phase not in TERMINAL
                before = status.SerializeToString(deterministic=True)
                change(status)
                if status.SerializeToString(deterministic=True) == before:
                    return self._execution(row)  # nothing changed: no write, no new revision
                if await _swap(session, row, status):
                    if result is not None and was_open and status.result_ref:
                        await results.keep(session, execution_id, result)
                    await notify.announce(session, execution_id)
                    return self._swapped(row, status)
            await asyncio.sleep(0)
        raise Conflict(f"execution {execution_id!r} kept changing; gave up after retries")

    def _execution(self, row: StoredRow) -> pb.Execution:
        execution = pb.Execution(id=row.id, revision=row.revision)
        self.specs.merge(row.id, row.spec, execution.spec)
        self.statuses.merge((row.id, row.revision), row.status, execution.status)
        return execution

    def _swapped(self, row: StoredRow, status: pb.ExecutionStatus) -> pb.Execution:
        """The execution just written by `_swap`, without reading it back."""
        revision = row.revision + 1
        self.statuses.keep((row.id, revision), status)
        execution = pb.Execution(id=row.id, revision=revision, status=status)
        self.specs.merge(row.id, row.spec, execution.spec)
        return execution

    # ------------------------------------------------------- observability

    async def count_by_phase(self) -> list[tuple[str, str, int]]:
        """(kind, phase, count) of every stored execution."""
        query = select(ExecutionRow.kind, ExecutionRow.phase, func.count()).group_by(
            ExecutionRow.kind, ExecutionRow.phase
        )
        async with self.db.sessions() as session:
            return [(kind, phase, count) for kind, phase, count in await session.execute(query)]

    async def open_by_target(self) -> list[tuple[str, str, int, datetime]]:
        """(kind, target, count, oldest created_at) of executions not finished yet."""
        query = (
            select(
                ExecutionRow.kind,
                ExecutionRow.target,
                func.count(),
                func.min(ExecutionRow.created_at),
            )
            .where(ExecutionRow.phase.in_(OPEN_NAMES))
            .group_by(ExecutionRow.kind, ExecutionRow.target)
        )
        async with self.db.sessions() as session:
            return [
                (kind, target, count, utc(oldest))
                for kind, target, count, oldest in await session.execute(query)
            ]

    async def open_since(self, created_before: datetime, limit: int) -> list[pb.Execution]:
        """Executions not finished yet that were created before `created_before`, oldest first."""
        query = (
            select(ExecutionRow)
            .where(ExecutionRow.phase.in_(OPEN_NAMES), ExecutionRow.created_at < created_before)
            .order_by(ExecutionRow.created_at)
            .limit(limit)
        )
        async with self.db.sessions() as session:
            return [self._execution(row) for row in (await session.scalars(query)).all()]

    async def unreconciled(
        self, quiet_since: datetime, limit: int, after: str = ""
    ) -> tuple[list[pb.Execution], str]:
        """A page of the walk through every execution a run that ended outside its
        workflow leaves (still open, or ended with its caller still waiting to hear),
        unchanged since `quiet_since`, oldest first after the cursor `after`; and the
        cursor after the page, "" once the walk reached the end (the next starts over)."""
        query = (
            select(ExecutionRow)
            .where(ExecutionRow.updated_at < quiet_since, _unreconciled())
            .order_by(ExecutionRow.created_at, ExecutionRow.id)
            .limit(limit)
        )
        if after:
            created, last_id = _position(after)
            query = query.where(
                (ExecutionRow.created_at > created)
                | ((ExecutionRow.created_at == created) & (ExecutionRow.id > last_id))
            )
        async with self.db.sessions() as session:
            rows = (await session.scalars(query)).all()
            cursor = _cursor(rows[-1]) if len(rows) == limit else ""
            return [self._execution(row) for row in rows], cursor

    async def unreconciled_among(self, execution_ids: Sequence[str]) -> list[pb.Execution]:
        """Those of `execution_ids` a run that ended outside its workflow leaves, however
        recently they changed: their runs are known to have ended."""
        found: list[pb.Execution] = []
        async with self.db.sessions() as session:
            for start in range(0, len(execution_ids), _IDS_PER_QUERY):
                ids = execution_ids[start : start + _IDS_PER_QUERY]
                query = select(ExecutionRow).where(ExecutionRow.id.in_(ids), _unreconciled())
                found += [self._execution(row) for row in (await session.scalars(query)).all()]
        return found

    async def unsettled_callbacks(
        self, outcomes: Sequence[str], changed_after: datetime, limit: int
    ) -> list[pb.Execution]:
        """Finished executions whose callback outcome is one of `outcomes` (enum names),
        last changed after `changed_after` (older ones are left to the logs)."""
        outcome = ExecutionRow.status[("callback", "outcome")].as_string()
        query = (
            select(ExecutionRow)
            .where(
                ExecutionRow.phase.in_(TERMINAL_NAMES),
                ExecutionRow.updated_at > changed_after,
                outcome.in_(outcomes),
            )
            .order_by(ExecutionRow.updated_at)
            .limit(limit)
        )
        async with self.db.sessions() as session:
            return [self._execution(row) for row in (await session.scalars(query)).all()]


_IDS_PER_QUERY = 500
"""Ids one `IN` list holds at most, well within every database's limit on parameters."""


def _unreconciled() -> ColumnElement[bool]:
    """Open, or ended with the caller still waiting to hear how."""
    outcome = ExecutionRow.status[("callback", "outcome")].as_string()
    waiting = pb.CallbackOutcome.Name(pb.CALLBACK_WAITING)
    ended_untold = ExecutionRow.phase.in_(TERMINAL_NAMES) & (outcome == waiting)
    return cast(ColumnElement[bool], ExecutionRow.phase.in_(OPEN_NAMES) | ended_untold)


def _cursor(row: ExecutionRow) -> str:
    """A position in creation order, to page on from: the row's creation time and id."""
    return f"{utc(row.created_at).isoformat()}|{row.id}"


def _position(cursor: str) -> tuple[datetime, str]:
    stamp, _, last_id = cursor.partition("|")
    return datetime.fromisoformat(stamp), last_id


def target_of(spec: pb.ExecutionSpec) -> str:
    if spec.HasField("agent"):
        return spec.agent.agent
    return spec.workflow.workflow


class StoredRow(Protocol):
    """What an execution's row holds, as the ORM or a plain select gives it."""

    id: str
    revision: int
    spec: dict[str, Any]
    status: dict[str, Any]


_TABLE = cast(Table, ExecutionRow.__table__)
_BY_ID = select(_TABLE.c.id, _TABLE.c.revision, _TABLE.c.spec, _TABLE.c.status).where(
    _TABLE.c.id == bindparam("id")
)
"""The hot reads and writes are plain SQL statements, without the ORM's identity loading,
which cost more than the query itself."""
_SWAP = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"), _TABLE.c.revision == bindparam("was"))
    .values(
        status=bindparam("status"),
        phase=bindparam("phase"),
        revision=bindparam("revision"),
        updated_at=bindparam("stamp"),
    )
)


async def _row(session: AsyncSession, execution_id: str) -> StoredRow:
    row = (await session.execute(_BY_ID, {"id": execution_id})).one_or_none()
    if row is None:
        raise NotFound(f"execution {execution_id!r} not found")
    return cast(StoredRow, row)


async def _swap(session: AsyncSession, row: StoredRow, status: pb.ExecutionStatus) -> bool:
    """Compare-and-set on the revision; False when another writer got in first."""
    stamp = now()
    status.updated_at.FromDatetime(stamp)
    values = {
        "row_id": row.id,
        "was": row.revision,
        "status": _to_json(status),
        "phase": pb.Phase.Name(status.phase),
        "revision": row.revision + 1,
        "stamp": stamp,
    }
    result = await session.execute(_SWAP, values)
    return bool(cast(CursorResult[Any], result).rowcount == 1)


def _to_json(message: Any) -> dict[str, Any]:
    result: dict[str, Any] = json_format.MessageToDict(message, preserving_proto_field_name=True)
    return result
