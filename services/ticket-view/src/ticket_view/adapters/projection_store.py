"""Write side of the read model: bulk last-writer-wins upserts and tracking positions.

Each table gets ONE statement per batch: the winners are passed as column arrays and
`unnest`ed, and a row is only replaced by a strictly newer (occurred_at, event_id) — or, for
portals, a strictly higher aggregate version per field group.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from psycopg import AsyncConnection

from ..domain import changes as ch
from ..domain import portals as pt

_BOOL = frozenset({"deleted", "associated", "public"})
_TIME = frozenset({"created_at", "updated_at", "occurred_at"})


def _pg_type(column: str) -> str:
    if column in ch.JSON_COLUMNS or column in pt.JSON_COLUMNS:
        return "jsonb"
    if column in _BOOL:
        return "boolean"
    if column in _TIME:
        return "timestamptz"
    if column.endswith("_v"):
        return "integer"
    return "text"


def _upsert_sql(table: str) -> str:
    keys = ch.KEY_COLUMNS[table]
    columns = (*keys, *ch.VALUE_COLUMNS[table], "occurred_at", "event_id")
    arrays = ", ".join(f"%s::{_pg_type(c)}[]" for c in columns)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keys)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates} "
        f"WHERE (excluded.occurred_at, excluded.event_id) > ({table}.occurred_at, {table}.event_id)"
    )


def _portal_sql(group: str) -> str:
    columns = ("account_id", "portal_id", *pt.GROUP_COLUMNS[group], f"{group}_v")
    arrays = ", ".join(f"%s::{_pg_type(c)}[]" for c in columns)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[2:])
    return (
        f"INSERT INTO portals ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT (account_id, portal_id) DO UPDATE SET {updates} "
        f"WHERE portals.{group}_v < excluded.{group}_v"
    )


_UPSERT = {table: _upsert_sql(table) for table in ch.KEY_COLUMNS}
_PORTAL = {group: _portal_sql(group) for group in pt.GROUP_COLUMNS}


def _jsonable(column: str, value: Any) -> Any:
    if column in ch.JSON_COLUMNS or column in pt.JSON_COLUMNS:
        return None if value is None else json.dumps(value, separators=(",", ":"))
    return value


def _refresh_copy_sql(table: str) -> str:
    return (
        f"UPDATE {table} a SET live = coalesce(NOT t.deleted, false), status = t.status, "
        "pipeline = t.pipeline, t_created_at = t.created_at, t_updated_at = t.updated_at "
        "FROM unnest(%s::text[], %s::text[]) AS k(account_id, ticket_id) "
        "LEFT JOIN tickets t ON t.account_id = k.account_id AND t.ticket_id = k.ticket_id "
        "WHERE a.account_id = k.account_id AND a.ticket_id = k.ticket_id AND "
        "(a.live, a.status, a.pipeline, a.t_created_at, a.t_updated_at) IS DISTINCT FROM "
        "(coalesce(NOT t.deleted, false), t.status, t.pipeline, t.created_at, t.updated_at)"
    )


_REFRESH = {table: _refresh_copy_sql(table) for table in (ch.TICKET_CONTACTS, ch.TICKET_COMPANIES)}


async def refresh_ticket_copies(
    conn: AsyncConnection, by_table: dict[str, list[ch.Change]]
) -> None:
    """Association rows of every ticket touched by the batch get the ticket's current fields."""
    touched = {
        change.key[:2]
        for table in (ch.TICKETS, ch.TICKET_CONTACTS, ch.TICKET_COMPANIES)
        for change in by_table.get(table, ())
    }
    if not touched:
        return
    accounts, tickets = [k[0] for k in touched], [k[1] for k in touched]
    for table, sql in _REFRESH.items():
        if ch.TICKETS in by_table or table in by_table:
            await conn.execute(sql, (accounts, tickets))


async def write_changes(conn: AsyncConnection, by_table: dict[str, list[ch.Change]]) -> None:
    await _upsert_all(conn, by_table)
    await refresh_ticket_copies(conn, by_table)


async def _upsert_all(conn: AsyncConnection, by_table: dict[str, list[ch.Change]]) -> None:
    for table, rows in by_table.items():
        columns = (*ch.KEY_COLUMNS[table], *ch.VALUE_COLUMNS[table])
        arrays: list[list[Any]] = [[] for _ in range(len(columns) + 2)]
        width = len(columns)
        for change in rows:
            for i, value in enumerate((*change.key, *change.values)):
                arrays[i].append(_jsonable(columns[i], value))
            arrays[width].append(change.version[0])
            arrays[width + 1].append(change.version[1])
        await conn.execute(_UPSERT[table], arrays)


async def write_portal_updates(
    conn: AsyncConnection, by_group: dict[str, list[pt.PortalUpdate]]
) -> None:
    for group, updates in by_group.items():
        columns = ("account_id", "portal_id", *pt.GROUP_COLUMNS[group])
        arrays: list[list[Any]] = [[] for _ in range(len(columns) + 1)]
        for item in updates:
            for i, value in enumerate((item.account_id, item.portal_id, *item.values)):
                arrays[i].append(_jsonable(columns[i], value))
            arrays[-1].append(item.version)
        await conn.execute(_PORTAL[group], arrays)


async def read_position(conn: AsyncConnection, projection: str) -> int:
    cur = await conn.execute(
        "SELECT stream_seq FROM projection_positions WHERE projection = %s", (projection,)
    )
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def write_position(conn: AsyncConnection, projection: str, stream_seq: int) -> None:
    await conn.execute(
        "INSERT INTO projection_positions (projection, stream_seq) VALUES (%s, %s) "
        "ON CONFLICT (projection) DO UPDATE SET stream_seq = excluded.stream_seq",
        (projection, stream_seq),
    )


class PgProjectionTx:
    def __init__(self, conn: AsyncConnection):
        self._conn = conn

    async def position(self, projection: str) -> int:
        return await read_position(self._conn, projection)

    async def write(self, plan: Any) -> None:
        await write_changes(self._conn, plan.changes)
        await write_portal_updates(self._conn, plan.portal_updates)

    async def set_position(self, projection: str, stream_seq: int) -> None:
        await write_position(self._conn, projection, stream_seq)


class PgProjectionStore:
    """One dedicated connection; each batch is one transaction on it."""

    def __init__(self, conn: AsyncConnection):
        self._conn = conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgProjectionTx]:
        async with self._conn.transaction():
            yield PgProjectionTx(self._conn)
