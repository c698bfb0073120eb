"""Results over the size budget, kept apart and fetched by reference.

They are written only in the transaction that points an execution's status at them (see
`Executions.update`), so an execution that has ended keeps the result it ended with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from stigmer.store.database import Database
from stigmer.store.tables import ResultRow


@dataclass
class StoredResult:
    output: str
    structured: Any


class Results:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def get(self, execution_id: str) -> StoredResult | None:
        async with self.db.sessions() as session:
            row = await session.get(ResultRow, execution_id)
            return None if row is None else StoredResult(row.output, row.structured.get("value"))


async def keep(session: AsyncSession, execution_id: str, result: StoredResult) -> None:
    await session.merge(
        ResultRow(
            execution_id=execution_id,
            output=result.output,
            structured={"value": result.structured},
        )
    )
