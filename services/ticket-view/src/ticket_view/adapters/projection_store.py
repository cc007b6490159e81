"""Write side of the read model: portal field groups, tracking positions, the batch store.

CRM rows are written by `crm_writer`; during a rebuild they are staged instead (each replay
part with its tracking position in `stage_positions`) and resolved into the tables once at the
end.
Portal updates are few: their winners are passed as column arrays and `unnest`ed; a field
group only moves to a strictly higher aggregate version.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from psycopg import AsyncConnection

from ..domain import changes as ch
from ..domain import portals as pt
from .crm_writer import prepare_session, stage_changes, write_changes

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


def _portal_sql(group: str) -> str:
    columns = ("account_id", "portal_id", *pt.GROUP_COLUMNS[group], f"{group}_v")
    arrays = ", ".join(f"%s::{_pg_type(c)}[]" for c in columns)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[2:])
    return (
        f"INSERT INTO portals ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT (account_id, portal_id) DO UPDATE SET {updates} "
        f"WHERE portals.{group}_v < excluded.{group}_v"
    )


_PORTAL = {group: _portal_sql(group) for group in pt.GROUP_COLUMNS}


def _jsonable(column: str, value: Any) -> Any:
    if column in ch.JSON_COLUMNS or column in pt.JSON_COLUMNS:
        return None if value is None else json.dumps(value, separators=(",", ":"))
    return value


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


POSITIONS = "projection_positions"
STAGED_POSITIONS = "stage_positions"


async def read_position(conn: AsyncConnection, projection: str, table: str = POSITIONS) -> int:
    cur = await conn.execute(f"SELECT stream_seq FROM {table} WHERE projection = %s", (projection,))
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def write_position(
    conn: AsyncConnection, projection: str, stream_seq: int, table: str = POSITIONS
) -> None:
    await conn.execute(
        f"INSERT INTO {table} (projection, stream_seq) VALUES (%s, %s) "
        "ON CONFLICT (projection) DO UPDATE SET stream_seq = excluded.stream_seq",
        (projection, stream_seq),
    )


class PgProjectionTx:
    def __init__(self, conn: AsyncConnection, staged: bool, merging: asyncio.Event):
        self._conn = conn
        self._staged = staged
        self._positions = STAGED_POSITIONS if staged else POSITIONS
        self._merging = merging

    async def position(self, projection: str) -> int:
        return await read_position(self._conn, projection, self._positions)

    async def write(self, plan: Any) -> None:
        if self._staged:
            await stage_changes(
                self._conn, plan.changes, plan.first_seq, plan.encoded, self._merging.set
            )
        else:
            await write_changes(self._conn, plan.changes, plan.encoded, self._merging.set)
        await write_portal_updates(self._conn, plan.portal_updates)

    async def set_position(self, projection: str, stream_seq: int) -> None:
        await write_position(self._conn, projection, stream_seq, self._positions)


class PgProjectionStore:
    """One dedicated connection; each batch is one transaction on it. `staged` (rebuild):
    CRM changes and the position go to the staging tables.

    `merging` is set once a batch's merges are sent (cleared by the caller per batch): from
    then on the database is busy for a while and the client has nothing to send."""

    def __init__(self, conn: AsyncConnection, staged: bool = False):
        self._conn = conn
        self._ready = False
        self.staged = staged
        self.merging = asyncio.Event()

    async def stored_position(self, projection: str) -> int:
        table = STAGED_POSITIONS if self.staged else POSITIONS
        return await read_position(self._conn, projection, table)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgProjectionTx]:
        if not self._ready:
            await prepare_session(self._conn)
            self._ready = True
        async with self._conn.transaction():
            yield PgProjectionTx(self._conn, self.staged, self.merging)
