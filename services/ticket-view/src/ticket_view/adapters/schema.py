"""DDL of the ticket-visibility read model. Every table is keyed by (account_id, ...).

Association rows carry a copy of their ticket's list fields (`live` = the ticket exists and
is not deleted, status, pipeline, timestamps), kept equal to the ticket in the same
transaction, so a page of a contact's or a company's tickets is read in index order and stops
after `limit` rows instead of sorting every visible ticket.

`event_id` columns use the "C" collation so that ties on `occurred_at` are broken by byte
order, exactly as in Python: the winner of a key never depends on batch boundaries.
"""

from __future__ import annotations

from psycopg import AsyncConnection

TABLES = (
    "contacts",
    "companies",
    "tickets",
    "ticket_contacts",
    "ticket_companies",
    "messages",
    "portals",
    "projection_positions",
)

_TICKET_COPY = (
    "live boolean NOT NULL DEFAULT false, status text, pipeline text, "
    "t_created_at timestamptz, t_updated_at timestamptz"
)
_VERSION = 'occurred_at timestamptz NOT NULL, event_id text COLLATE "C" NOT NULL'

DDL = f"""
CREATE TABLE IF NOT EXISTS contacts (
    account_id text NOT NULL, contact_id text NOT NULL,
    email text, firstname text, lastname text, primary_company_id text, language text,
    properties jsonb NOT NULL DEFAULT '{{}}', deleted boolean NOT NULL, {_VERSION},
    PRIMARY KEY (account_id, contact_id));
CREATE TABLE IF NOT EXISTS companies (
    account_id text NOT NULL, company_id text NOT NULL, name text, domain text,
    properties jsonb NOT NULL DEFAULT '{{}}', deleted boolean NOT NULL, {_VERSION},
    PRIMARY KEY (account_id, company_id));
CREATE TABLE IF NOT EXISTS tickets (
    account_id text NOT NULL, ticket_id text NOT NULL COLLATE "C",
    subject text, content text, pipeline text, stage text, status text, priority text,
    inbox_id text, created_at timestamptz, updated_at timestamptz,
    properties jsonb NOT NULL DEFAULT '{{}}', deleted boolean NOT NULL, {_VERSION},
    PRIMARY KEY (account_id, ticket_id));
CREATE TABLE IF NOT EXISTS ticket_contacts (
    account_id text NOT NULL, ticket_id text NOT NULL COLLATE "C", contact_id text NOT NULL,
    associated boolean NOT NULL, {_VERSION}, {_TICKET_COPY},
    PRIMARY KEY (account_id, ticket_id, contact_id));
CREATE TABLE IF NOT EXISTS ticket_companies (
    account_id text NOT NULL, ticket_id text NOT NULL COLLATE "C", company_id text NOT NULL,
    associated boolean NOT NULL, {_VERSION}, {_TICKET_COPY},
    PRIMARY KEY (account_id, ticket_id, company_id));
CREATE TABLE IF NOT EXISTS messages (
    account_id text NOT NULL, ticket_id text NOT NULL COLLATE "C", message_id text NOT NULL,
    author_type text NOT NULL, author_id text, author_name text, body text NOT NULL,
    public boolean NOT NULL, created_at timestamptz NOT NULL, {_VERSION},
    PRIMARY KEY (account_id, ticket_id, message_id));
CREATE TABLE IF NOT EXISTS portals (
    account_id text NOT NULL, portal_id text NOT NULL,
    title text, title_v integer NOT NULL DEFAULT 0,
    domain text, slug text, language text, domain_v integer NOT NULL DEFAULT 0,
    default_inbox_id text, visibility jsonb, visibility_v integer NOT NULL DEFAULT 0,
    ticket_display jsonb, ticket_display_v integer NOT NULL DEFAULT 0,
    status text, status_v integer NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, portal_id));
CREATE TABLE IF NOT EXISTS projection_positions (
    projection text PRIMARY KEY, stream_seq bigint NOT NULL);
"""


INDEXES = """
CREATE INDEX IF NOT EXISTS contacts_email ON contacts (account_id, lower(email))
    WHERE NOT deleted;
CREATE INDEX IF NOT EXISTS ticket_contacts_by_updated
    ON ticket_contacts (account_id, contact_id, t_updated_at, ticket_id)
    WHERE associated AND live;
CREATE INDEX IF NOT EXISTS ticket_contacts_by_created
    ON ticket_contacts (account_id, contact_id, t_created_at, ticket_id)
    WHERE associated AND live;
CREATE INDEX IF NOT EXISTS ticket_companies_by_updated
    ON ticket_companies (account_id, company_id, t_updated_at, ticket_id)
    WHERE associated AND live;
CREATE INDEX IF NOT EXISTS ticket_companies_by_created
    ON ticket_companies (account_id, company_id, t_created_at, ticket_id)
    WHERE associated AND live;
"""


STAGED = ("contacts", "companies", "tickets", "ticket_contacts", "ticket_companies", "messages")
STAGING = (*(f"stage_{t}" for t in STAGED), "stage_positions")

STAGING_DDL = "".join(
    f"CREATE UNLOGGED TABLE IF NOT EXISTS stage_{t} "
    f"(LIKE {t} INCLUDING DEFAULTS, staged bigint NOT NULL);\n"
    for t in STAGED
) + (
    "CREATE UNLOGGED TABLE IF NOT EXISTS stage_positions "
    "(projection text PRIMARY KEY, stream_seq bigint NOT NULL);"
)
"""Rebuild staging: every CRM change as it is replayed (no keys, no WAL), resolved into the
real tables once at the end; `staged` (the stream sequence of the row's batch's first message)
is the last tie-breaker; `stage_positions` holds each replay part's position."""


async def create_schema(conn: AsyncConnection, *, indexes: bool = True) -> None:
    """Idempotent: safe at every start and from several processes. `indexes=False` (rebuild)
    leaves out the secondary indexes, which `create_indexes` builds afterwards in one pass."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(7315002)")
        await conn.execute(DDL)
        if indexes:
            await conn.execute(INDEXES)


async def create_indexes(conn: AsyncConnection) -> None:
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(7315002)")
        await conn.execute(INDEXES)


async def drop_schema(conn: AsyncConnection) -> None:
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(7315002)")
        await conn.execute("DROP TABLE IF EXISTS " + ", ".join((*STAGING, *TABLES)))


async def create_staging(conn: AsyncConnection) -> None:
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(7315002)")
        await conn.execute(STAGING_DDL)


async def drop_staging(conn: AsyncConnection) -> None:
    await conn.execute("DROP TABLE IF EXISTS " + ", ".join(STAGING))
