"""Portal persistence: events (event store + outbox), the `portals` state table and the
(domain, slug) claims — all written in one transaction per command.

The claims table has `PRIMARY KEY (domain, slug)`: of two portals claiming the same URL
concurrently, PostgreSQL commits exactly one; the other gets `Conflict`.
"""

from __future__ import annotations

from typing import Any

from portal_contracts import Namespace
from portal_contracts.portal import PortalEvent
from psycopg import AsyncConnection, errors
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from ..domain.errors import Conflict
from ..domain.portal import PortalState
from . import event_store
from .event_store import NewEvent, StoredEvent

CLAIM_CONSTRAINT = "portal_claims_domain_slug"


def stream_id(portal_id: str) -> str:
    return f"portal-{portal_id}"


class PgPortalStore:
    def __init__(self, pool: AsyncConnectionPool, namespace: Namespace) -> None:
        self.pool = pool
        self.namespace = namespace

    async def get(self, account_id: str, portal_id: str) -> PortalState | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT state FROM portals WHERE id = %s AND account_id = %s",
                (portal_id, account_id),
            )
            row = await cur.fetchone()
        return PortalState.model_validate(row[0]) if row else None

    async def list_for_account(self, account_id: str) -> list[PortalState]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT state FROM portals WHERE account_id = %s ORDER BY created_at, id",
                (account_id,),
            )
            rows = await cur.fetchall()
        return [PortalState.model_validate(r[0]) for r in rows]

    async def resolve(self, host: str, slug: str) -> PortalState | None:
        """The active portal at `host` (exactly, else without the port) and `slug`."""
        candidates = [host, host.rsplit(":", 1)[0]] if ":" in host else [host]
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT state FROM portals WHERE domain = ANY(%s) AND slug = %s"
                " AND status = 'active' ORDER BY domain = %s DESC LIMIT 1",
                (candidates, slug, host),
            )
            row = await cur.fetchone()
        return PortalState.model_validate(row[0]) if row else None

    async def history(self, account_id: str, portal_id: str) -> list[StoredEvent] | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT 1 FROM portals WHERE id = %s AND account_id = %s", (portal_id, account_id)
            )
            if await cur.fetchone() is None:
                return None
            return await event_store.read(conn, stream_id(portal_id))

    async def save(
        self, expected_version: int, events: list[PortalEvent], state: PortalState
    ) -> None:
        """Appends `events` (raises `ConcurrencyError` when the stream moved on) and writes
        the resulting `state` and its URL claim in the same transaction."""
        new_events = [
            NewEvent(
                event_id=e.event_id,
                type=e.type,
                account_id=e.account_id,
                occurred_at=e.occurred_at,
                payload=e.model_dump(mode="json"),
                subject=self.namespace.config_subject(e.account_id, e.type),
                correlation_id=e.correlation_id,
            )
            for e in events
        ]
        async with self.pool.connection() as conn, conn.transaction():
            await event_store.append(conn, stream_id(state.id), expected_version, new_events)
            if any(e.type == "portal.domain_set" for e in events):
                await self._claim(conn, state)
            await conn.execute(
                "INSERT INTO portals (id, account_id, version, status, domain, slug, state,"
                " created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version,"
                " status = EXCLUDED.status, domain = EXCLUDED.domain, slug = EXCLUDED.slug,"
                " state = EXCLUDED.state",
                (
                    state.id,
                    state.account_id,
                    state.version,
                    state.status,
                    state.domain,
                    state.slug,
                    Jsonb(state.model_dump(mode="json")),
                    state.created_at,
                ),
            )

    async def _claim(self, conn: AsyncConnection[Any], state: PortalState) -> None:
        await conn.execute("DELETE FROM portal_claims WHERE portal_id = %s", (state.id,))
        try:
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO portal_claims (domain, slug, portal_id) VALUES (%s, %s, %s)",
                    (state.domain, state.slug, state.id),
                )
        except errors.UniqueViolation as exc:
            if exc.diag.constraint_name != CLAIM_CONSTRAINT:
                raise
            raise Conflict(
                f"'{state.domain}/{state.slug}' is already used by another portal",
                reason="url_taken",
                domain=state.domain,
                slug=state.slug,
            ) from exc
