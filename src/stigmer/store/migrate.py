"""Bring a database to the newest schema; every process that opens the store calls this."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

_PG_MIGRATION_LOCK = 0x5717_6E52  # any constant shared by all stigmer processes


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "stigmer.store:migrations")
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Two processes starting together must not both create the tables.
        connection.execute(text(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})"))
    command.upgrade(_config(connection), "head")


async def upgrade(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


def new_revision(message: str, connection: Connection) -> None:
    """Autogenerate a migration from the tables (used by developers, see docs)."""
    command.revision(_config(connection), message=message, autogenerate=True)
