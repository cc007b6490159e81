"""PostgreSQL connection pool and the service's schema (created idempotently at start)."""

from __future__ import annotations

import re

from psycopg_pool import AsyncConnectionPool

OUTBOX_CHANNEL = "portal_config_outbox"

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    stream_id   text        NOT NULL,
    version     integer     NOT NULL CHECK (version >= 1),
    event_id    text        NOT NULL UNIQUE,
    type        text        NOT NULL,
    account_id  text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    payload     jsonb       NOT NULL,
    position    bigserial   NOT NULL,
    CONSTRAINT events_stream_version PRIMARY KEY (stream_id, version)
);
CREATE TABLE IF NOT EXISTS outbox (
    position       bigserial   PRIMARY KEY,
    event_id       text        NOT NULL UNIQUE,
    subject        text        NOT NULL,
    payload        bytea       NOT NULL,
    correlation_id text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    published_at   timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (position) WHERE published_at IS NULL;
CREATE TABLE IF NOT EXISTS accounts (
    id         text        PRIMARY KEY,
    name       text        NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS api_keys (
    key_hash   text        PRIMARY KEY,
    account_id text        NOT NULL REFERENCES accounts (id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS domains (
    account_id       text        NOT NULL REFERENCES accounts (id),
    domain           text        NOT NULL,
    primary_language text        NOT NULL,
    system           boolean     NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT domains_account_domain PRIMARY KEY (account_id, domain)
);
CREATE TABLE IF NOT EXISTS inboxes (
    id         text        PRIMARY KEY,
    account_id text        NOT NULL REFERENCES accounts (id),
    name       text        NOT NULL,
    kind       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS portals (
    id         text        PRIMARY KEY,
    account_id text        NOT NULL,
    version    integer     NOT NULL,
    status     text        NOT NULL,
    domain     text,
    slug       text,
    state      jsonb       NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS portals_account ON portals (account_id, created_at);
CREATE TABLE IF NOT EXISTS portal_claims (
    domain    text NOT NULL,
    slug      text NOT NULL,
    portal_id text NOT NULL UNIQUE,
    CONSTRAINT portal_claims_domain_slug PRIMARY KEY (domain, slug)
);
"""

_SQLALCHEMY_DRIVER = re.compile(r"^postgresql\+\w+://")


def conninfo(database_url: str) -> str:
    """Accepts plain libpq URLs (TCP or Unix socket) and SQLAlchemy-style ones."""
    return _SQLALCHEMY_DRIVER.sub("postgresql://", database_url)


async def open_pool(database_url: str, max_size: int = 10) -> AsyncConnectionPool:
    pool = AsyncConnectionPool(
        conninfo(database_url), min_size=1, max_size=max_size, open=False, timeout=10
    )
    await pool.open(wait=True, timeout=15)
    return pool


async def create_schema(pool: AsyncConnectionPool) -> None:
    async with pool.connection() as conn:
        await conn.execute("SELECT pg_advisory_xact_lock(4711)")
        await conn.execute(SCHEMA)
