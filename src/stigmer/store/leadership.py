"""Which API replica does the once-only work: the one holding a PostgreSQL advisory lock.

The collector's stored-state gauges, stuck-call detection and the reconciler run in one
replica at a time. On PostgreSQL each replica keeps a connection of its own and tries
`pg_try_advisory_lock` on it every `ELECT_SECONDS`; the lock is held by that session, so
when the leader dies (or its connection drops) the server releases it and another replica
takes over at its next try. A leader checks its session just as often and steps down the
moment it stops answering. On SQLite there is one process (see `ProcessLock` in the
server's start), and it leads.
"""

from __future__ import annotations

import asyncio

import asyncpg
import structlog

from stigmer.background import Background
from stigmer.store.dedicated import LOST, alive, connect, is_postgresql

log = structlog.get_logger("stigmer.store")

LEADER_LOCK = 0x5717_1EAD
"""The advisory lock key every stigmer API replica contends for."""
ELECT_SECONDS = 2.0
"""How often a replica tries to lead, and a leader checks its session."""


class Leadership:
    def __init__(self, url: str, elect_seconds: float = ELECT_SECONDS) -> None:
        self.url = url
        self.elect_seconds = elect_seconds
        self.shared = is_postgresql(url)
        self._leads = not self.shared
        self._connection: asyncpg.Connection | None = None
        self._background = Background("leadership")

    @property
    def leads(self) -> bool:
        """Whether this replica should do the once-only work now."""
        return self._leads

    def start(self) -> None:
        if self.shared:
            self._background.start(self._contend())

    async def stop(self) -> None:
        """Step down: closing the session releases the lock for another replica at once."""
        await self._background.stop()
        self._step_down()
        self._leads = not self.shared

    async def _contend(self) -> None:
        """Try every `elect_seconds` for as long as the replica runs: a standby's job is to
        be ready when the leader goes. An unreachable database is logged when it goes and
        when it is back, not at every try."""
        unreachable = False
        while True:
            try:
                await self._try()
                if unreachable:
                    log.info("leadership: database reachable again")
                unreachable = False
            except LOST as exc:
                if not unreachable:
                    log.warning("leadership: database unreachable", error=str(exc))
                unreachable = True
                self._step_down()
            await asyncio.sleep(self.elect_seconds)

    async def _try(self) -> None:
        if self._connection is not None and not await alive(self._connection, self.elect_seconds):
            self._step_down()
        if self._leads:
            return
        if self._connection is None:
            self._connection = await connect(self.url)
        taken = await self._connection.fetchval(
            "SELECT pg_try_advisory_lock($1)", LEADER_LOCK, timeout=self.elect_seconds
        )
        if taken:
            self._leads = True
            log.info("this replica leads: collector, stuck calls and reconciler run here")

    def _step_down(self) -> None:
        if self._leads and self.shared:
            log.warning("this replica no longer leads")
        if self.shared:
            self._leads = False
        if self._connection is not None:
            self._connection.terminate()
            self._connection = None
