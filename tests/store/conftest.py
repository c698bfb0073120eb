"""A fresh Store per test, on SQLite and, when its server answers, on PostgreSQL."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from stigmer.store.store import Store
from tests.conftest import POSTGRES_URL


def postgres_reachable() -> bool:
    url = make_url(POSTGRES_URL)
    try:
        with socket.create_connection((url.host or "127.0.0.1", url.port or 5432), timeout=1):
            return True
    except OSError:
        return False


def _asyncpg_dsn(url: str, database: str) -> str:
    """The same server as a SQLAlchemy URL, as a plain DSN naming another database."""
    return make_url(url).set(drivername="postgresql", database=database).render_as_string(False)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of an empty database, dropped afterwards so runs never see each other's rows."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'data' / 'stigmer.db'}"
        return
    if not postgres_reachable():
        pytest.skip(f"PostgreSQL is not reachable at {make_url(POSTGRES_URL).host}:5432")
    name = f"stigmer_test_{uuid.uuid4().hex[:12]}"
    maintenance = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL, "postgres"))
    try:
        await maintenance.execute(f'CREATE DATABASE "{name}"')
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(False)
    finally:
        await maintenance.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await maintenance.close()


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    opened = await Store.open(store_url)
    try:
        yield opened
    finally:
        await opened.close()
