"""Results over the size budget, kept apart and fetched by reference."""

from __future__ import annotations

from typing import Any

from stigmer.store.database import Database
from stigmer.store.tables import ResultRow


class Results:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def put(self, execution_id: str, output: str, structured: Any) -> None:
        async with self.db.writing() as session:
            await session.merge(
                ResultRow(
                    execution_id=execution_id, output=output, structured={"value": structured}
                )
            )

    async def get(self, execution_id: str) -> tuple[str, Any] | None:
        async with self.db.sessions() as session:
            row = await session.get(ResultRow, execution_id)
            return None if row is None else (row.output, row.structured.get("value"))
