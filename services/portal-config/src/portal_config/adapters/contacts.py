"""The contact projection (from the CRM stream) that access groups and registration need.

Last-writer-wins per (account, contact) by `(occurred_at, event_id)`, deletions kept as
tombstones, so any delivery order converges. The consumer's stream position is written in
the same transaction. A changed contact is flagged `needs_evaluation` until its access
groups were evaluated, so a crash between the two is repaired at the next start.
"""

from __future__ import annotations

from typing import Any

from portal_contracts.crm import ContactDeleted, ContactUpserted
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from ..domain.access import STANDARD_FIELDS, Contact

_COLUMNS = "account_id, contact_id, email, properties, deleted"


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
        account_id: str,
        event: ContactUpserted | ContactDeleted | None,
        consumer: str,
        position: int,
    ) -> bool:
        """Applies one CRM event (None: nothing to apply) and records `position`.
        True when the contact changed."""
        async with self.pool.connection() as conn, conn.transaction():
            changed = False
            if event is not None:
                if isinstance(event, ContactUpserted):
                    email, props, deleted = (
                        event.data.email.lower(),
                        merged_properties(event),
                        False,
                    )
                else:
                    email, props, deleted = "", {}, True
                cur = await conn.execute(
                    "INSERT INTO contacts (account_id, contact_id, email, properties, deleted,"
                    " occurred_at, event_id, needs_evaluation)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, true)"
                    " ON CONFLICT (account_id, contact_id) DO UPDATE SET email = CASE"
                    " WHEN EXCLUDED.deleted THEN contacts.email ELSE EXCLUDED.email END,"
                    " properties = CASE WHEN EXCLUDED.deleted THEN contacts.properties"
                    " ELSE EXCLUDED.properties END, deleted = EXCLUDED.deleted,"
                    " occurred_at = EXCLUDED.occurred_at, event_id = EXCLUDED.event_id,"
                    " needs_evaluation = true"
                    " WHERE (contacts.occurred_at, contacts.event_id)"
                    " < (EXCLUDED.occurred_at, EXCLUDED.event_id)"
                    " RETURNING 1",
                    (
                        account_id,
                        event.data.contact_id,
                        email,
                        Jsonb(props),
                        deleted,
                        event.occurred_at,
                        event.event_id,
                    ),
                )
                changed = await cur.fetchone() is not None
            await conn.execute(
                "INSERT INTO consumer_positions (consumer, position) VALUES (%s, %s)"
                " ON CONFLICT (consumer) DO UPDATE SET position = GREATEST("
                "consumer_positions.position, EXCLUDED.position)",
                (consumer, position),
            )
        return changed

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

    async def evaluated(self, contact: Contact) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(
                "UPDATE contacts SET needs_evaluation = false WHERE account_id = %s"
                " AND contact_id = %s AND deleted = %s AND email = %s AND properties = %s",
                (
                    contact.account_id,
                    contact.contact_id,
                    contact.deleted,
                    contact.email,
                    Jsonb(contact.properties),
                ),
            )
