"""The store: one database and a repository per kind of record.

The API is its only writer. Callers name the repository they need
(`store.executions.update(...)`, `store.definitions.apply(...)`), so each table's rules
live in one module.
"""

from __future__ import annotations

from stigmer.store.database import Database
from stigmer.store.definitions import Definitions
from stigmer.store.executions import Executions
from stigmer.store.results import Results
from stigmer.store.subscriptions import Subscriptions
from stigmer.store.tokens import CallbackTokens


class Store:
    def __init__(self, database: Database) -> None:
        self.db = database
        self.definitions = Definitions(database)
        self.executions = Executions(database)
        self.tokens = CallbackTokens(database)
        self.results = Results(database)
        self.subscriptions = Subscriptions(database)

    @classmethod
    async def open(cls, url: str) -> Store:
        """Connect and migrate to the newest schema (see `Database.open`)."""
        return cls(await Database.open(url))

    async def close(self) -> None:
        await self.db.close()
