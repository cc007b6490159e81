"""Append-only event store with optimistic concurrency and a transactional outbox.

`PRIMARY KEY (stream_id, version)` is the concurrency guard: of two writers appending the
same version, the database lets exactly one commit; the other gets `ConcurrencyError`.
Every appended event is also written to the outbox in the same transaction, so it reaches
JetStream if and only if it was stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, errors
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from ..application.ports import ConcurrencyError, StoredEvent
from .db import OUTBOX_CHANNEL

STREAM_VERSION_CONSTRAINT = "events_stream_version"

__all__ = ["ConcurrencyError", "EventStore", "NewEvent", "StoredEvent", "append", "read"]


@dataclass(frozen=True)
class NewEvent:
    event_id: str
    type: str
    account_id: str
    occurred_at: datetime
    payload: dict[str, Any]
    subject: str
    correlation_id: str | None = None


async def append(
    conn: AsyncConnection[Any], stream_id: str, expected_version: int, events: list[NewEvent]
) -> int:
    """Appends inside the caller's transaction; returns the stream's new version."""
    if expected_version > 0:
        cur = await conn.execute(
            "SELECT 1 FROM events WHERE stream_id = %s AND version = %s",
            (stream_id, expected_version),
        )
        if await cur.fetchone() is None:
            raise ConcurrencyError(stream_id, expected_version)
    version = expected_version
    for event in events:
        version += 1
        try:
            await conn.execute(
                "INSERT INTO events (stream_id, version, event_id, type, account_id,"
                " occurred_at, payload) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    stream_id,
                    version,
                    event.event_id,
                    event.type,
                    event.account_id,
                    event.occurred_at,
                    Jsonb(event.payload),
                ),
            )
        except errors.UniqueViolation as exc:
            if exc.diag.constraint_name == STREAM_VERSION_CONSTRAINT:
                raise ConcurrencyError(stream_id, expected_version) from exc
            raise
        await conn.execute(
            "INSERT INTO outbox (event_id, subject, payload, correlation_id)"
            " VALUES (%s, %s, %s, %s)",
            (
                event.event_id,
                event.subject,
                json.dumps(event.payload, separators=(",", ":")).encode(),
                event.correlation_id,
            ),
        )
    if events:
        await conn.execute("SELECT pg_notify(%s, '')", (OUTBOX_CHANNEL,))
    return version


async def read(conn: AsyncConnection[Any], stream_id: str) -> list[StoredEvent]:
    cur = await conn.execute(
        "SELECT stream_id, version, event_id, type, occurred_at, payload FROM events"
        " WHERE stream_id = %s ORDER BY version",
        (stream_id,),
    )
    return [StoredEvent(*row) for row in await cur.fetchall()]


class EventStore:
    """The event store on its own transactions (one per append)."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def append(self, stream_id: str, expected_version: int, events: list[NewEvent]) -> int:
        async with self.pool.connection() as conn, conn.transaction():
            return await append(conn, stream_id, expected_version, events)

    async def read(self, stream_id: str) -> list[StoredEvent]:
        async with self.pool.connection() as conn:
            return await read(conn, stream_id)
