"""The contact projection (from the CRM stream) that access groups and registration need.

Last-writer-wins per (account, contact) by `(occurred_at, event_id)`, deletions kept as
tombstones, so any delivery order converges (ties on `occurred_at` by the event ids' byte
order, in Python and in SQL alike, so batch boundaries never change a winner). The consumer's
stream position is written in the same transaction. A changed contact is flagged
`needs_evaluation` until its access groups were evaluated, so a crash between the two is
repaired at the next start.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from portal_contracts.crm import ContactDeleted, ContactUpserted
from psycopg_pool import AsyncConnectionPool

from ..domain.access import STANDARD_FIELDS, Contact

_COLUMNS = "account_id, contact_id, email, properties, deleted"
_UPSERT = (
    "INSERT INTO contacts (account_id, contact_id, email, properties, deleted,"
    " occurred_at, event_id, needs_evaluation)"
    " SELECT a, c, e, p::jsonb, d, o, i, true FROM unnest(%s::text[], %s::text[], %s::text[],"
    " %s::text[], %s::boolean[], %s::timestamptz[], %s::text[]) AS u(a, c, e, p, d, o, i)"
    " ON CONFLICT (account_id, contact_id) DO UPDATE SET email = CASE"
    " WHEN EXCLUDED.deleted THEN contacts.email ELSE EXCLUDED.email END,"
    " properties = CASE WHEN EXCLUDED.deleted THEN contacts.properties"
    " ELSE EXCLUDED.properties END, deleted = EXCLUDED.deleted,"
    " occurred_at = EXCLUDED.occurred_at, event_id = EXCLUDED.event_id,"
    " needs_evaluation = true"
    ' WHERE (contacts.occurred_at, contacts.event_id COLLATE "C")'
    ' < (EXCLUDED.occurred_at, EXCLUDED.event_id COLLATE "C")'
    f" RETURNING {_COLUMNS}"
)


def _version(event: ContactUpserted | ContactDeleted) -> tuple[datetime, str]:
    return (event.occurred_at, event.event_id)


def merged_properties(event: ContactUpserted) -> dict[str, Any]:
    data = event.data
    merged: dict[str, Any] = dict(data.properties)
    for name in STANDARD_FIELDS:
        value = getattr(data, name)
        if value is not None:
            merged[name] = value
    return merged


def _contact(row: Any) -> Contact:
    return Contact(
        account_id=row[0], contact_id=row[1], email=row[2], properties=row[3], deleted=row[4]
    )


class PgContactStore:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def position(self, consumer: str) -> int:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT position FROM consumer_positions WHERE consumer = %s", (consumer,)
            )
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def apply(
        self,
        events: list[tuple[str, ContactUpserted | ContactDeleted]],
        consumer: str,
        position: int,
    ) -> list[Contact]:
        """Applies a batch of CRM contact events (possibly none) and records `position`, in one
        transaction. → the contacts that changed, in their new state.

        Within the batch only the newest event per contact is written; against the table
        the usual last-writer-wins condition decides."""
        newest: dict[tuple[str, str], tuple[str, ContactUpserted | ContactDeleted]] = {}
        for account_id, event in events:
            key = (account_id, event.data.contact_id)
            current = newest.get(key)
            if current is None or _version(event) > _version(current[1]):
                newest[key] = (account_id, event)
        columns: list[list[Any]] = [[] for _ in range(7)]
        for (account_id, contact_id), (_, event) in newest.items():
            if isinstance(event, ContactUpserted):
                row = (event.data.email.lower(), json.dumps(merged_properties(event)), False)
            else:
                row = ("", "{}", True)
            values = (account_id, contact_id, *row, event.occurred_at, event.event_id)
            for column, value in zip(columns, values, strict=True):
                column.append(value)
        async with self.pool.connection() as conn, conn.transaction():
            rows: list[Any] = []
            if newest:
                cur = await conn.execute(_UPSERT, columns)
                rows = await cur.fetchall()
            await conn.execute(
                "INSERT INTO consumer_positions (consumer, position) VALUES (%s, %s)"
                " ON CONFLICT (consumer) DO UPDATE SET position = GREATEST("
                "consumer_positions.position, EXCLUDED.position)",
                (consumer, position),
            )
        return [_contact(r) for r in rows]

    async def get(self, account_id: str, contact_id: str) -> Contact | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_COLUMNS} FROM contacts WHERE account_id = %s AND contact_id = %s",
                (account_id, contact_id),
            )
            row = await cur.fetchone()
        return _contact(row) if row else None

    async def by_email(self, account_id: str, email: str) -> Contact | None:
        """The most recently changed live contact with this email (case-insensitive)."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_COLUMNS} FROM contacts WHERE account_id = %s AND email = %s"
                " AND NOT deleted ORDER BY occurred_at DESC, contact_id LIMIT 1",
                (account_id, email.strip().lower()),
            )
            row = await cur.fetchone()
        return _contact(row) if row else None

    async def active_member_by_email(
        self, account_id: str, portal_id: str, email: str
    ) -> Contact | None:
        """The live contact with this email (case-insensitive) that is an active member of
        the portal — several contacts may share one email."""
        columns = ", ".join(f"c.{name.strip()}" for name in _COLUMNS.split(","))
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {columns} FROM contacts c JOIN members m ON m.contact_id = c.contact_id"
                " AND m.account_id = c.account_id AND m.portal_id = %s AND m.status = 'active'"
                " WHERE c.account_id = %s AND c.email = %s AND NOT c.deleted"
                " ORDER BY c.occurred_at DESC, c.contact_id LIMIT 1",
                (portal_id, account_id, email.strip().lower()),
            )
            row = await cur.fetchone()
        return _contact(row) if row else None

    async def live_contacts(self, account_id: str) -> list[Contact]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_COLUMNS} FROM contacts WHERE account_id = %s AND NOT deleted"
                " ORDER BY contact_id",
                (account_id,),
            )
            rows = await cur.fetchall()
        return [_contact(r) for r in rows]

    async def needing_evaluation(self, limit: int = 1000) -> list[Contact]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_COLUMNS} FROM contacts WHERE needs_evaluation LIMIT %s", (limit,)
            )
            rows = await cur.fetchall()
        return [_contact(r) for r in rows]

    async def evaluated(self, contacts: list[Contact]) -> None:
        """Clears the flag of each contact still in the state it was evaluated in."""
        if not contacts:
            return
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(
                "UPDATE contacts c SET needs_evaluation = false FROM unnest("
                "%s::text[], %s::text[], %s::boolean[], %s::text[], %s::text[]"
                ") AS u(account_id, contact_id, deleted, email, properties)"
                " WHERE c.account_id = u.account_id AND c.contact_id = u.contact_id"
                " AND c.deleted = u.deleted AND c.email = u.email"
                " AND c.properties = u.properties::jsonb",
                (
                    [c.account_id for c in contacts],
                    [c.contact_id for c in contacts],
                    [c.deleted for c in contacts],
                    [c.email for c in contacts],
                    [json.dumps(c.properties) for c in contacts],
                ),
            )
