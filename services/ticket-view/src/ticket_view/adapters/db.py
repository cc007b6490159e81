"""PostgreSQL connections (psycopg 3): URL normalisation, a pool for queries."""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool


def libpq_url(url: str) -> str:
    """Accepts SQLAlchemy-style URLs too (`postgresql+psycopg://`)."""
    for prefix in ("postgresql+psycopg://", "postgresql+asyncpg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


async def connect(url: str, *, autocommit: bool = False) -> AsyncConnection:
    return await AsyncConnection.connect(libpq_url(url), autocommit=autocommit)


async def _in_utc(conn: AsyncConnection) -> None:
    await conn.execute("SET TIME ZONE 'UTC'")


async def open_pool(url: str, min_size: int = 2, max_size: int = 10) -> AsyncConnectionPool:
    """Query connections run in UTC: timestamps leave them as UTC datetimes, which the RPC
    encoder writes as `...Z` without converting them. (Set per new connection, so `options`
    given in the URL stay as they are.)"""
    pool = AsyncConnectionPool(
        libpq_url(url),
        min_size=min_size,
        max_size=max_size,
        open=False,
        kwargs={"autocommit": True},
        configure=_in_utc,
    )
    await pool.open(wait=True, timeout=30)
    return pool
