"""Temporal workflows waiting for published events: a `listen`, an event schedule."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from stigmer.store.database import Database, now
from stigmer.store.tables import SubscriptionRow


class Subscriptions:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def add(self, workflow_id: str, key: str) -> None:
        async with self.db.writing() as session:
            if await session.get(SubscriptionRow, (workflow_id, key)) is None:
                session.add(SubscriptionRow(workflow_id=workflow_id, key=key, created_at=now()))

    async def remove(self, workflow_id: str, key: str | None = None) -> None:
        """Drop one subscription of the workflow, or all of them."""
        query = delete(SubscriptionRow).where(SubscriptionRow.workflow_id == workflow_id)
        if key is not None:
            query = query.where(SubscriptionRow.key == key)
        async with self.db.writing() as session:
            await session.execute(query)

    async def workflows(self) -> list[str]:
        """Workflows with at least one subscription, oldest first."""
        query = (
            select(SubscriptionRow.workflow_id)
            .group_by(SubscriptionRow.workflow_id)
            .order_by(func.min(SubscriptionRow.created_at))
        )
        async with self.db.sessions() as session:
            return list((await session.scalars(query)).all())
