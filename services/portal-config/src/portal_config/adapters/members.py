"""Member persistence: the member's events (event store + outbox) and its `members` state row,
written in one transaction together with whatever secret state the command changes
(credentials, tokens, sessions — tables only, never events)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from portal_contracts import Namespace
from portal_contracts.member import MemberEvent
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from ..domain.member import MemberState
from . import event_store
from .event_store import NewEvent

SideEffect = Callable[[AsyncConnection[Any]], Awaitable[None]]


def stream_id(portal_id: str, contact_id: str) -> str:
    return f"member-{portal_id}-{contact_id}"


class PgMemberStore:
    def __init__(self, pool: AsyncConnectionPool, namespace: Namespace) -> None:
        self.pool = pool
        self.namespace = namespace

    async def get(self, account_id: str, portal_id: str, contact_id: str) -> MemberState:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT state FROM members WHERE portal_id = %s AND contact_id = %s"
                " AND account_id = %s",
                (portal_id, contact_id, account_id),
            )
            row = await cur.fetchone()
        if row is None:
            return MemberState.new(account_id, portal_id, contact_id)
        return MemberState.model_validate(row[0])

    async def for_portal(self, account_id: str, portal_id: str) -> list[MemberState]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT state FROM members WHERE portal_id = %s AND account_id = %s"
                " AND status <> 'none' ORDER BY contact_id",
                (portal_id, account_id),
            )
            rows = await cur.fetchall()
        return [MemberState.model_validate(r[0]) for r in rows]

    async def pending_invitations(self, account_id: str, portal_id: str) -> list[MemberState]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT state FROM members WHERE portal_id = %s AND account_id = %s"
                " AND status = 'invited'",
                (portal_id, account_id),
            )
            rows = await cur.fetchall()
        return [MemberState.model_validate(r[0]) for r in rows]

    async def save(
        self,
        expected_version: int,
        events: list[MemberEvent],
        state: MemberState,
        side_effect: SideEffect | None = None,
    ) -> None:
        """Appends (`ConcurrencyError` when the stream moved on), writes the state row and
        runs `side_effect` on the same connection, all in one transaction."""
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
            sid = stream_id(state.portal_id, state.contact_id)
            await event_store.append(conn, sid, expected_version, new_events)
            await conn.execute(
                "INSERT INTO members (portal_id, contact_id, account_id, version, status, state)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (portal_id, contact_id) DO UPDATE"
                " SET version = EXCLUDED.version, status = EXCLUDED.status, state = EXCLUDED.state",
                (
                    state.portal_id,
                    state.contact_id,
                    state.account_id,
                    state.version,
                    state.status,
                    Jsonb(state.model_dump(mode="json")),
                ),
            )
            if side_effect is not None:
                await side_effect(conn)
