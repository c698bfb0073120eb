"""Telling every API replica that an execution changed, through PostgreSQL LISTEN/NOTIFY.

A write sends `NOTIFY stigmer_execution_changes, '<execution id>'` inside its own
transaction, so the notice goes out exactly when the change commits, and never for a
change that was rolled back. Each replica listens on a connection of its own and wakes its
watchers with the id. On SQLite there is one process and nothing to send.

The listening connection can drop (a database restart, a network cut). It is opened again
with capped backoff; a notice sent while it was down is lost, so every watcher is woken
after a reconnect and re-reads. After `MAX_RECONNECTS` failed attempts in a row the
listener gives up, says so in the log, and watchers fall back to their poll.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import asyncpg
import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from stigmer.background import Background
from stigmer.store.dedicated import LOST, alive, connect

log = structlog.get_logger("stigmer.store")

CHANNEL = "stigmer_execution_changes"
CHECK_SECONDS = 5.0
"""How often the listening connection is checked to be alive."""
RECONNECT_FIRST, RECONNECT_CAP = 0.5, 10.0
MAX_RECONNECTS = 60
"""Failed reconnects in a row (about ten minutes at the cap) before the listener gives up."""


async def announce(session: AsyncSession, execution_id: str) -> None:
    """Queue the notice of a change in the session's transaction (sent on commit)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_notify(CHANNEL, execution_id)))


class ChangeListener:
    """Calls `on_change(execution_id)` for every change any replica commits; `on_gap()`
    when notices may have been missed (the connection was lost and made again)."""

    def __init__(
        self, url: str, on_change: Callable[[str], None], on_gap: Callable[[], None]
    ) -> None:
        self.url = url
        self.on_change = on_change
        self.on_gap = on_gap
        self._background = Background("change-listener")

    async def start(self) -> None:
        """Listen before returning, so no change committed after start is missed."""
        connection = await self._listen()
        self._background.start(self._keep(connection))

    async def stop(self) -> None:
        await self._background.stop()

    def _received(self, _connection: Any, _pid: int, _channel: str, payload: object) -> None:
        self.on_change(str(payload))

    async def _listen(self) -> asyncpg.Connection:
        connection = await connect(self.url)
        await connection.add_listener(CHANNEL, self._received)
        return connection

    async def _keep(self, connection: asyncpg.Connection) -> None:
        try:
            while True:
                await self._until_lost(connection)
                log.warning("change listener lost its connection; reconnecting")
                with contextlib.suppress(Exception):
                    connection.terminate()
                reconnected = await self._reconnect()
                if reconnected is None:
                    return
                connection = reconnected
                self.on_gap()
        finally:
            connection.terminate()

    async def _until_lost(self, connection: asyncpg.Connection) -> None:
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            if not await alive(connection, CHECK_SECONDS):
                return

    async def _reconnect(self) -> asyncpg.Connection | None:
        delay = RECONNECT_FIRST
        for attempt in range(1, MAX_RECONNECTS + 1):
            try:
                return await self._listen()
            except LOST as exc:
                log.warning("change listener cannot reconnect", attempt=attempt, error=str(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_CAP)
        log.error(
            "change listener gave up; watches see other replicas' changes only when they poll",
            attempts=MAX_RECONNECTS,
        )
        return None
