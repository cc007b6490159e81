"""Secret state tables: one-time tokens and session ids (SHA-256 only), password hashes
(argon2id), and rate-limit events. None of it ever goes into an event or a stream.

Functions taking a connection run inside the caller's transaction (a member command's);
the others open their own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from .db import single_reads

Conn = AsyncConnection[Any]


@dataclass(frozen=True)
class TokenRow:
    account_id: str
    portal_id: str
    contact_id: str
    purpose: str
    event_id: str
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True)
class SessionRow:
    id_hash: str
    account_id: str
    portal_id: str
    contact_id: str
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    idle_expires_at: datetime
    absolute_expires_at: datetime


async def use_token(conn: Conn, token_hash: str, now: datetime) -> bool:
    """Marks the token used; False when it was used (or expired) meanwhile."""
    cur = await conn.execute(
        "UPDATE member_tokens SET used_at = %s WHERE token_hash = %s AND used_at IS NULL"
        " AND expires_at > %s RETURNING 1",
        (now, token_hash, now),
    )
    return await cur.fetchone() is not None


async def set_password(
    conn: Conn, portal_id: str, contact_id: str, password_hash: str, now: datetime
) -> None:
    await conn.execute(
        "INSERT INTO credentials (portal_id, contact_id, password_hash, updated_at)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT (portal_id, contact_id) DO UPDATE"
        " SET password_hash = EXCLUDED.password_hash, updated_at = EXCLUDED.updated_at",
        (portal_id, contact_id, password_hash, now),
    )


async def insert_session(conn: Conn, s: SessionRow) -> None:
    await conn.execute(
        "INSERT INTO sessions (id_hash, account_id, portal_id, contact_id, csrf_token,"
        " created_at, last_seen_at, idle_expires_at, absolute_expires_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            s.id_hash,
            s.account_id,
            s.portal_id,
            s.contact_id,
            s.csrf_token,
            s.created_at,
            s.last_seen_at,
            s.idle_expires_at,
            s.absolute_expires_at,
        ),
    )


async def end_sessions(conn: Conn, portal_id: str, contact_id: str) -> None:
    await conn.execute(
        "DELETE FROM sessions WHERE portal_id = %s AND contact_id = %s", (portal_id, contact_id)
    )


class PgAuthStore:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def insert_token(self, token_hash: str, row: TokenRow) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO member_tokens (token_hash, account_id, portal_id, contact_id,"
                " purpose, event_id, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    token_hash,
                    row.account_id,
                    row.portal_id,
                    row.contact_id,
                    row.purpose,
                    row.event_id,
                    row.expires_at,
                ),
            )

    async def token(self, token_hash: str) -> TokenRow | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT account_id, portal_id, contact_id, purpose, event_id, expires_at, used_at"
                " FROM member_tokens WHERE token_hash = %s",
                (token_hash,),
            )
            row = await cur.fetchone()
        return TokenRow(*row) if row else None

    async def password_hash(self, portal_id: str, contact_id: str) -> str | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT password_hash FROM credentials WHERE portal_id = %s AND contact_id = %s",
                (portal_id, contact_id),
            )
            row = await cur.fetchone()
        return str(row[0]) if row else None

    async def create_session(self, session: SessionRow) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await insert_session(conn, session)

    async def session(self, id_hash: str) -> SessionRow | None:
        """Read on every customer request: one round trip (no transaction around it)."""
        async with single_reads(self.pool) as conn:
            cur = await conn.execute(
                "SELECT id_hash, account_id, portal_id, contact_id, csrf_token, created_at,"
                " last_seen_at, idle_expires_at, absolute_expires_at FROM sessions"
                " WHERE id_hash = %s",
                (id_hash,),
            )
            row = await cur.fetchone()
        return SessionRow(*row) if row else None

    async def touch_session(self, id_hash: str, now: datetime, idle_expires_at: datetime) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(
                "UPDATE sessions SET last_seen_at = %s, idle_expires_at = %s WHERE id_hash = %s",
                (now, idle_expires_at, id_hash),
            )

    async def delete_session(self, id_hash: str, portal_id: str) -> tuple[str, str] | None:
        """→ (account id, contact id) of the session deleted, None when there was none."""
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "DELETE FROM sessions WHERE id_hash = %s AND portal_id = %s"
                " RETURNING account_id, contact_id",
                (id_hash, portal_id),
            )
            row = await cur.fetchone()
        return (str(row[0]), str(row[1])) if row else None

    async def housekeeping(self, now: datetime, keep_since: datetime) -> None:
        """Forgets expired sessions and tokens, and rate-limit events older than `keep_since`."""
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(
                "DELETE FROM sessions WHERE idle_expires_at <= %s OR absolute_expires_at <= %s",
                (now, now),
            )
            await conn.execute("DELETE FROM member_tokens WHERE expires_at <= %s", (now,))
            await conn.execute("DELETE FROM rate_events WHERE at <= %s", (keep_since,))

    async def recent(self, bucket: str, key: str, since: datetime) -> tuple[int, datetime | None]:
        """How many events of `bucket`/`key` since `since`, and the oldest of them."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT count(*), min(at) FROM rate_events WHERE bucket = %s AND key = %s"
                " AND at > %s",
                (bucket, key, since),
            )
            row = await cur.fetchone()
        assert row is not None
        return int(row[0]), row[1]

    async def record(self, bucket: str, key: str, now: datetime, keep_since: datetime) -> None:
        """Records one event and forgets this key's events older than `keep_since`."""
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(
                "DELETE FROM rate_events WHERE bucket = %s AND key = %s AND at <= %s",
                (bucket, key, keep_since),
            )
            await conn.execute(
                "INSERT INTO rate_events (bucket, key, at) VALUES (%s, %s, %s)", (bucket, key, now)
            )

    async def clear(self, bucket: str, key: str) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(
                "DELETE FROM rate_events WHERE bucket = %s AND key = %s", (bucket, key)
            )
