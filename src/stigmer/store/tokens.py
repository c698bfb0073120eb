"""The callers' task tokens: credentials, kept apart from the readable status.

They are written only in the transaction that creates an execution or rotates its
caller (see `Executions`), so a delivery never reads a token older than the status it
delivers; this repository reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from stigmer.store.database import Database, now
from stigmer.store.tables import CallbackTokenRow


@dataclass
class StoredToken:
    task_token: bytes
    attempt: int
    namespace: str


class CallbackTokens:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def get(self, execution_id: str) -> StoredToken | None:
        async with self.db.sessions() as session:
            row = await session.get(CallbackTokenRow, execution_id)
            if row is None:
                return None
            return StoredToken(row.task_token, row.attempt, row.namespace)


async def keep(session: AsyncSession, execution_id: str, token: StoredToken) -> None:
    """Store the token of an execution's caller, replacing an older attempt's."""
    row = await session.get(CallbackTokenRow, execution_id)
    if row is None:
        session.add(
            CallbackTokenRow(
                execution_id=execution_id,
                task_token=token.task_token,
                attempt=token.attempt,
                namespace=token.namespace,
                updated_at=now(),
            )
        )
        return
    row.task_token = token.task_token
    row.attempt = token.attempt
    row.namespace = token.namespace
    row.updated_at = now()
