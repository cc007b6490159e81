"""PostgreSQL connection pool and the service's schema (created idempotently at start)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from psycopg import AsyncConnection
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
CREATE TABLE IF NOT EXISTS contacts (
    account_id      text        NOT NULL,
    contact_id      text        NOT NULL,
    email           text        NOT NULL,
    properties      jsonb       NOT NULL,
    deleted         boolean     NOT NULL DEFAULT false,
    occurred_at     timestamptz NOT NULL,
    event_id        text        NOT NULL,
    needs_evaluation boolean    NOT NULL DEFAULT true,
    CONSTRAINT contacts_account_contact PRIMARY KEY (account_id, contact_id)
);
CREATE INDEX IF NOT EXISTS contacts_email ON contacts (account_id, email) WHERE NOT deleted;
CREATE INDEX IF NOT EXISTS contacts_dirty ON contacts (account_id) WHERE needs_evaluation;
CREATE TABLE IF NOT EXISTS consumer_positions (
    consumer text   PRIMARY KEY,
    position bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS members (
    portal_id    text        NOT NULL,
    contact_id   text        NOT NULL,
    account_id   text        NOT NULL,
    version      integer     NOT NULL,
    status       text        NOT NULL,
    state        jsonb       NOT NULL,
    CONSTRAINT members_portal_contact PRIMARY KEY (portal_id, contact_id)
);
CREATE TABLE IF NOT EXISTS credentials (
    portal_id     text        NOT NULL,
    contact_id    text        NOT NULL,
    password_hash text        NOT NULL,
    updated_at    timestamptz NOT NULL,
    CONSTRAINT credentials_portal_contact PRIMARY KEY (portal_id, contact_id)
);
CREATE TABLE IF NOT EXISTS member_tokens (
    token_hash  text        PRIMARY KEY,
    account_id  text        NOT NULL,
    portal_id   text        NOT NULL,
    contact_id  text        NOT NULL,
    purpose     text        NOT NULL,
    event_id    text        NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX IF NOT EXISTS member_tokens_member ON member_tokens (portal_id, contact_id);
CREATE TABLE IF NOT EXISTS sessions (
    id_hash             text        PRIMARY KEY,
    account_id          text        NOT NULL,
    portal_id           text        NOT NULL,
    contact_id          text        NOT NULL,
    csrf_token          text        NOT NULL,
    created_at          timestamptz NOT NULL,
    last_seen_at        timestamptz NOT NULL,
    idle_expires_at     timestamptz NOT NULL,
    absolute_expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_member ON sessions (portal_id, contact_id);
CREATE TABLE IF NOT EXISTS rate_events (
    bucket text        NOT NULL,
    key    text        NOT NULL,
    at     timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS rate_events_key ON rate_events (bucket, key, at);
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


@asynccontextmanager
async def single_reads(pool: AsyncConnectionPool) -> AsyncIterator[AsyncConnection[Any]]:
    """A pooled connection in autocommit, for one read on a hot path: the pool's connections
    otherwise wrap every use in BEGIN ... COMMIT, two more round trips."""
    async with pool.connection() as conn:
        await conn.set_autocommit(True)
        try:
            yield conn
        finally:
            if not conn.closed:
                await conn.set_autocommit(False)


async def create_schema(pool: AsyncConnectionPool) -> None:
    async with pool.connection() as conn:
        await conn.execute("SELECT pg_advisory_xact_lock(4711)")
        await conn.execute(SCHEMA)
