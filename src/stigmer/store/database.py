"""The database a store runs on: its engine, its sessions and how writes are taken in turn.

SQLite (WAL) by default, PostgreSQL by URL, on one SQLAlchemy async code path. Parameter
values never appear in error text (`hide_parameters`, and `error_text` for what drivers
quote themselves): a failed write must not carry a task token or a secret into a log line
or an API answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from stigmer.store import migrate
from stigmer.store.error_text import hide_values

MAX_WRITE_ATTEMPTS = 100
"""Optimistic writes that lost a race are re-run this often, then give up with Conflict."""
EXCLUSIVE_LOCKS = 0x5717_5C0E
"""The first key of the advisory locks `Database.exclusive` takes (the second: the scope)."""
EXCLUSIVE_WAIT = "30s"
LOCK_NOT_AVAILABLE = "55P03"
"""PostgreSQL's SQLSTATE for a lock wait that ran past `lock_timeout`."""


class NotFound(LookupError):
    """The named resource does not exist."""


class Conflict(RuntimeError):
    """A write could not be applied (a revision mismatch the caller asked to respect)."""


def now() -> datetime:
    return datetime.now(UTC)


def utc(value: datetime) -> datetime:
    """SQLite hands timestamps back naive; they were written in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


class Database:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        # SQLite allows one writer; a read that turns into a write inside a transaction
        # fails at once if another write slipped in, so this process queues its writes.
        self._serial_writes = engine.dialect.name == "sqlite"
        self._write_lock = asyncio.Lock()
        self._scope_locks: dict[str, asyncio.Lock] = {}

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """A transaction for a write, committed on leaving."""
        async with contextlib.AsyncExitStack() as stack:
            if self._serial_writes:
                await stack.enter_async_context(self._write_lock)
            session = await stack.enter_async_context(self.sessions.begin())
            yield session

    @contextlib.asynccontextmanager
    async def exclusive(self, scope: str, wait: str = EXCLUSIVE_WAIT) -> AsyncIterator[None]:
        """One holder of `scope` at a time across every process on this database.

        On PostgreSQL a transaction-level advisory lock, released when the block ends
        (or its connection dies); waiting longer than `wait` is a Conflict. On
        SQLite there is one process, and an in-process lock suffices.
        """
        if self.dialect != "postgresql":
            async with self._scope_locks.setdefault(scope, asyncio.Lock()):
                yield
            return
        async with self.engine.connect() as connection, connection.begin():
            await connection.execute(
                text("SELECT set_config('lock_timeout', :wait, true)"), {"wait": wait}
            )
            try:
                await connection.execute(
                    select(func.pg_advisory_xact_lock(EXCLUSIVE_LOCKS, func.hashtext(scope)))
                )
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                    raise
                raise Conflict(
                    f"{scope} is being changed through another replica for over {wait}; try again"
                ) from exc
            yield

    @classmethod
    async def open(cls, url: str) -> Database:
        """Connect, create an owner-only SQLite file if needed, and migrate to the newest schema."""
        file = sqlite_file(url)
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(os.open(file, os.O_CREAT | os.O_RDWR, 0o600))
            os.chmod(file, 0o600)
        # A pre-ping finds server connections dropped while idle; a SQLite file has
        # none to drop, and the ping would cost a round trip to its thread per session.
        engine = create_async_engine(url, pool_pre_ping=file is None, hide_parameters=True)
        hide_values(engine)
        if file is not None:
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        await migrate.upgrade(engine)
        return cls(engine)

    async def close(self) -> None:
        await self.engine.dispose()


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
