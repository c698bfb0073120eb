"""A PostgreSQL connection of a process's own, beside the store's pool.

LISTEN and session-level advisory locks belong to one server session: a pooled
connection would hand them to whoever borrows it next, or drop them when recycled.
"""

from __future__ import annotations

import asyncpg
from sqlalchemy.engine import make_url

CONNECT_TIMEOUT = 10.0
KEEPALIVE = {
    "tcp_keepalives_idle": "5",
    "tcp_keepalives_interval": "2",
    "tcp_keepalives_count": "3",
}
"""The server notices a dead client within seconds, so its session locks go with it."""
LOST = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)
"""What a dropped or unreachable database raises."""


def is_postgresql(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def driver_dsn(url: str) -> str:
    """The plain `postgresql://` DSN asyncpg takes, from the store's SQLAlchemy URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(
            f"a connection of its own needs PostgreSQL, not {parsed.get_backend_name()}"
        )
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


async def connect(url: str) -> asyncpg.Connection:
    connection: asyncpg.Connection = await asyncpg.connect(
        driver_dsn(url), timeout=CONNECT_TIMEOUT, server_settings=KEEPALIVE
    )
    return connection


async def alive(connection: asyncpg.Connection, seconds: float) -> bool:
    """Whether the session still answers within `seconds`."""
    if connection.is_closed():
        return False
    try:
        await connection.execute("SELECT 1", timeout=seconds)
    except LOST:
        return False
    return True
