"""Persistence of definitions and executions on one SQLAlchemy async code path.

SQLite (WAL) by default, PostgreSQL by URL. Executions change by optimistic concurrency:
each write re-reads, applies its change to the fresh copy and commits only if the revision
did not move, so concurrent writers never lose an update.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from google.protobuf import json_format
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.engine import CursorResult, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.contract.phases import OPEN_NAMES, TERMINAL_NAMES
from stigmer.store import migrate
from stigmer.store.tables import (
    CallbackTokenRow,
    DefinitionRow,
    DefinitionVersionRow,
    ExecutionRow,
    ResultRow,
    SubscriptionRow,
)

_MAX_WRITE_ATTEMPTS = 100


class NotFound(LookupError):
    """The named resource does not exist."""


class Conflict(RuntimeError):
    """A write could not be applied (a revision mismatch the caller asked to respect)."""


def now() -> datetime:
    return datetime.now(UTC)


def _to_json(message: Any) -> dict[str, Any]:
    result: dict[str, Any] = json_format.MessageToDict(message, preserving_proto_field_name=True)
    return result


def _utc(value: datetime) -> datetime:
    """SQLite hands timestamps back naive; they were written in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass
class StoredToken:
    task_token: bytes
    attempt: int
    namespace: str


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


class Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        # SQLite allows one writer; a read that turns into a write inside a transaction
        # fails at once if another write slipped in, so this process queues its writes.
        self._serial_writes = engine.dialect.name == "sqlite"
        self._write_lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        async with contextlib.AsyncExitStack() as stack:
            if self._serial_writes:
                await stack.enter_async_context(self._write_lock)
            session = await stack.enter_async_context(self._sessions.begin())
            yield session

    @classmethod
    async def open(cls, url: str) -> Store:
        """Connect, create an owner-only SQLite file if needed, and migrate to the newest schema."""
        sqlite_file = _sqlite_file(url)
        if sqlite_file is not None:
            sqlite_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(os.open(sqlite_file, os.O_CREAT | os.O_RDWR, 0o600))
            os.chmod(sqlite_file, 0o600)
        # A pre-ping finds server connections dropped while idle; a SQLite file has
        # none to drop, and the ping would cost a round trip to its thread per session.
        engine = create_async_engine(url, pool_pre_ping=sqlite_file is None)
        if sqlite_file is not None:
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        await migrate.upgrade(engine)
        return cls(engine)

    async def close(self) -> None:
        await self.engine.dispose()

    # ------------------------------------------------------------ definitions

    async def apply_definition(
        self, kind: str, name: str, spec: dict[str, Any], metadata: dict[str, Any], version: str
    ) -> tuple[pb.Definition, bool]:
        """Create or update; returns the stored definition and whether anything changed."""
        for _ in range(_MAX_WRITE_ATTEMPTS):
            try:
                return await self._apply_definition(kind, name, spec, metadata, version)
            except IntegrityError:
                # Another writer inserted the same new definition or version first (the row
                # lock cannot cover a row that does not exist yet): apply onto theirs.
                await asyncio.sleep(0)
        raise Conflict(f"{kind.lower()} {name!r} kept changing; gave up applying it")

    async def _apply_definition(
        self, kind: str, name: str, spec: dict[str, Any], metadata: dict[str, Any], version: str
    ) -> tuple[pb.Definition, bool]:
        async with self._writing() as session:
            row = await session.get(DefinitionRow, (kind, name), with_for_update=True)
            stamp = now()
            if row is not None and row.version == version and row.metadata_json == metadata:
                return await self._definition(session, row), False
            if await session.get(DefinitionVersionRow, (kind, name, version)) is None:
                session.add(
                    DefinitionVersionRow(
                        kind=kind, name=name, version=version, spec=spec, created_at=stamp
                    )
                )
            if row is None:
                row = DefinitionRow(
                    kind=kind,
                    name=name,
                    version=version,
                    generation=1,
                    metadata_json=metadata,
                    created_at=stamp,
                    updated_at=stamp,
                )
                session.add(row)
            else:
                row.version = version
                row.generation += 1
                row.metadata_json = metadata
                row.updated_at = stamp
            await session.flush()
            return await self._definition(session, row), True

    async def get_definition(self, kind: str, name: str, version: str = "") -> pb.Definition:
        """The current version, or the given one; a version outlives a deleted definition,
        so an execution pinned to it still runs."""
        async with self._sessions() as session:
            row = await session.get(DefinitionRow, (kind, name))
            if row is not None:
                return await self._definition(session, row, version or row.version)
            stored = (
                await session.get(DefinitionVersionRow, (kind, name, version)) if version else None
            )
            if stored is None:
                raise NotFound(f"{kind.lower()} {name!r} not found")
            definition = pb.Definition(kind=pb.DefinitionKind.Value(kind), version=version)
            definition.metadata.name = name
            definition.spec.update(stored.spec)
            definition.created_at.FromDatetime(_utc(stored.created_at))
            definition.updated_at.FromDatetime(_utc(stored.created_at))
            return definition

    async def list_definitions(
        self, kind: str | None, limit: int, after: str = ""
    ) -> list[pb.Definition]:
        """Ordered by (kind, name); `after` is the last `kind/name` of the previous page."""
        async with self._sessions() as session:
            query = select(DefinitionRow).order_by(DefinitionRow.kind, DefinitionRow.name)
            if kind:
                query = query.where(DefinitionRow.kind == kind)
            if after:
                after_kind, _, after_name = after.partition("/")
                query = query.where(
                    (DefinitionRow.kind > after_kind)
                    | ((DefinitionRow.kind == after_kind) & (DefinitionRow.name > after_name))
                )
            rows = (await session.scalars(query.limit(limit))).all()
            return [await self._definition(session, row) for row in rows]

    async def delete_definition(self, kind: str, name: str) -> None:
        """Removes the definition; its versions stay for the executions that ran them."""
        async with self._writing() as session:
            row = await session.get(DefinitionRow, (kind, name))
            if row is None:
                raise NotFound(f"{kind.lower()} {name!r} not found")
            await session.delete(row)

    async def _definition(
        self, session: AsyncSession, row: DefinitionRow, version: str = ""
    ) -> pb.Definition:
        wanted = version or row.version
        stored = await session.get(DefinitionVersionRow, (row.kind, row.name, wanted))
        if stored is None:
            raise NotFound(f"{row.kind.lower()} {row.name!r} has no version {wanted!r}")
        definition = pb.Definition(
            kind=pb.DefinitionKind.Value(row.kind),
            version=wanted,
            generation=row.generation,
        )
        json_format.ParseDict(row.metadata_json, definition.metadata)
        definition.metadata.name = row.name
        definition.spec.update(stored.spec)
        definition.created_at.FromDatetime(_utc(row.created_at))
        definition.updated_at.FromDatetime(_utc(row.updated_at))
        return definition

    # ------------------------------------------------------------- executions

    async def create_execution(
        self, execution: pb.Execution, token: StoredToken | None
    ) -> tuple[pb.Execution, bool]:
        """Insert, or return the execution that already holds the idempotency key.

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
            async with self._writing() as session:
                session.add(row)
                await session.flush()
                if token is not None:
                    session.add(
                        CallbackTokenRow(
                            execution_id=row.id,
                            task_token=token.task_token,
                            attempt=token.attempt,
                            namespace=token.namespace,
                            updated_at=stamp,
                        )
                    )
            return _execution(row), True
        except IntegrityError:
            if key is None:
                raise
        existing = await self._by_key(key)
        if token is not None and execution.status.HasField("callback"):
            existing = await self._rotate(existing.id, token, execution.status.callback)
        return existing, False

    async def _by_key(self, key: str) -> pb.Execution:
        async with self._sessions() as session:
            row = await session.scalar(
                select(ExecutionRow).where(ExecutionRow.idempotency_key == key)
            )
            if row is None:
                raise NotFound(f"no execution with idempotency key {key!r}")
            return _execution(row)

    async def _rotate(
        self, execution_id: str, token: StoredToken, callback: pb.CallbackState
    ) -> pb.Execution:
        for _ in range(_MAX_WRITE_ATTEMPTS):
            async with self._writing() as session:
                row = await session.get(ExecutionRow, execution_id)
                stored = await session.get(CallbackTokenRow, execution_id)
                if row is None:
                    raise NotFound(f"execution {execution_id!r} not found")
                if row.phase in TERMINAL_NAMES or (
                    stored is not None and stored.attempt >= token.attempt
                ):
                    # Finished: the new attempt takes the result at once, nothing waits.
                    return _execution(row)
                status = pb.ExecutionStatus()
                json_format.ParseDict(row.status, status)
                status.callback.CopyFrom(callback)
                if not await self._swap(session, row, status):
                    continue
                if stored is None:
                    session.add(
                        CallbackTokenRow(
                            execution_id=execution_id,
                            task_token=token.task_token,
                            attempt=token.attempt,
                            namespace=token.namespace,
                            updated_at=now(),
                        )
                    )
                else:
                    stored.task_token = token.task_token
                    stored.attempt = token.attempt
                    stored.namespace = token.namespace
                    stored.updated_at = now()
                return _swapped(row, status)
        raise Conflict(f"execution {execution_id!r} kept changing; gave up rotating its token")

    async def get_execution(self, execution_id: str) -> pb.Execution:
        async with self._sessions() as session:
            row = await session.get(ExecutionRow, execution_id)
            if row is None:
                raise NotFound(f"execution {execution_id!r} not found")
            return _execution(row)

    async def list_executions(
        self,
        *,
        kind: str | None = None,
        phases: Sequence[str] = (),
        target: str = "",
        parent_execution_id: str = "",
        idempotency_key: str = "",
        limit: int = 100,
        before_id: str = "",
    ) -> list[pb.Execution]:
        """Newest first (ids sort by creation time); `before_id` pages on."""
        query = select(ExecutionRow).order_by(ExecutionRow.id.desc()).limit(limit)
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
        if before_id:
            query = query.where(ExecutionRow.id < before_id)
        async with self._sessions() as session:
            return [_execution(row) for row in (await session.scalars(query)).all()]

    async def update_execution(
        self,
        execution_id: str,
        change: Callable[[pb.ExecutionStatus], None],
        expected_revision: int = 0,
    ) -> pb.Execution:
        """Apply `change` to the current status and commit it without losing a concurrent write.

        `change` may raise to refuse the update; it is re-run on a fresh copy when another
        writer got in first. With `expected_revision`, a moved revision is a Conflict.
        """
        for _ in range(_MAX_WRITE_ATTEMPTS):
            async with self._writing() as session:
                row = await session.get(ExecutionRow, execution_id)
                if row is None:
                    raise NotFound(f"execution {execution_id!r} not found")
                if expected_revision and row.revision != expected_revision:
                    raise Conflict(
                        f"execution {execution_id!r} is at revision {row.revision}, "
                        f"not {expected_revision}"
                    )
                status = pb.ExecutionStatus()
                json_format.ParseDict(row.status, status)
                change(status)
                if await self._swap(session, row, status):
                    return _swapped(row, status)
            await asyncio.sleep(0)
        raise Conflict(f"execution {execution_id!r} kept changing; gave up after retries")

    async def _swap(
        self, session: AsyncSession, row: ExecutionRow, status: pb.ExecutionStatus
    ) -> bool:
        """Compare-and-set on the revision; False when another writer got in first."""
        stamp = now()
        status.updated_at.FromDatetime(stamp)
        result = await session.execute(
            update(ExecutionRow)
            .where(ExecutionRow.id == row.id, ExecutionRow.revision == row.revision)
            .values(
                status=_to_json(status),
                phase=pb.Phase.Name(status.phase),
                revision=row.revision + 1,
                updated_at=stamp,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(cast(CursorResult[Any], result).rowcount == 1)

    # ------------------------------------------------------- observability

    async def count_executions(self) -> list[tuple[str, str, int]]:
        """(kind, phase, count) of every stored execution."""
        query = select(ExecutionRow.kind, ExecutionRow.phase, func.count()).group_by(
            ExecutionRow.kind, ExecutionRow.phase
        )
        async with self._sessions() as session:
            return [(kind, phase, count) for kind, phase, count in await session.execute(query)]

    async def open_executions(self) -> list[tuple[str, str, int, datetime]]:
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
        async with self._sessions() as session:
            return [
                (kind, target, count, _utc(oldest))
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
        async with self._sessions() as session:
            return [_execution(row) for row in (await session.scalars(query)).all()]

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
        async with self._sessions() as session:
            return [_execution(row) for row in (await session.scalars(query)).all()]

    async def subscribe(self, workflow_id: str, key: str) -> None:
        async with self._writing() as session:
            if await session.get(SubscriptionRow, (workflow_id, key)) is None:
                session.add(SubscriptionRow(workflow_id=workflow_id, key=key, created_at=now()))

    async def unsubscribe(self, workflow_id: str, key: str | None = None) -> None:
        """Drop one subscription of the workflow, or all of them."""
        query = delete(SubscriptionRow).where(SubscriptionRow.workflow_id == workflow_id)
        if key is not None:
            query = query.where(SubscriptionRow.key == key)
        async with self._writing() as session:
            await session.execute(query)

    async def subscribers(self) -> list[str]:
        """Workflows with at least one subscription, oldest first."""
        query = (
            select(SubscriptionRow.workflow_id)
            .group_by(SubscriptionRow.workflow_id)
            .order_by(func.min(SubscriptionRow.created_at))
        )
        async with self._sessions() as session:
            return list((await session.scalars(query)).all())

    async def get_callback_token(self, execution_id: str) -> StoredToken | None:
        async with self._sessions() as session:
            row = await session.get(CallbackTokenRow, execution_id)
            if row is None:
                return None
            return StoredToken(row.task_token, row.attempt, row.namespace)

    async def put_result(self, execution_id: str, output: str, structured: Any) -> None:
        async with self._writing() as session:
            await session.merge(
                ResultRow(
                    execution_id=execution_id, output=output, structured={"value": structured}
                )
            )

    async def get_result(self, execution_id: str) -> tuple[str, Any] | None:
        async with self._sessions() as session:
            row = await session.get(ResultRow, execution_id)
            return None if row is None else (row.output, row.structured.get("value"))


def target_of(spec: pb.ExecutionSpec) -> str:
    if spec.HasField("agent"):
        return spec.agent.agent
    return spec.workflow.workflow


def _swapped(row: ExecutionRow, status: pb.ExecutionStatus) -> pb.Execution:
    """The execution just written by `_swap`, without reading it back."""
    execution = pb.Execution(id=row.id, revision=row.revision + 1, status=status)
    json_format.ParseDict(row.spec, execution.spec)
    return execution


def _execution(row: ExecutionRow) -> pb.Execution:
    execution = pb.Execution(id=row.id, revision=row.revision)
    json_format.ParseDict(row.spec, execution.spec)
    json_format.ParseDict(row.status, execution.status)
    return execution


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
