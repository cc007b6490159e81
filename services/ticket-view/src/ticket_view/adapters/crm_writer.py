"""Bulk last-writer-wins writes of CRM row changes.

Per table and batch: the winners are COPied into a session temp table, then merged with ONE
`INSERT ... SELECT ... ON CONFLICT DO UPDATE ... WHERE newer` (measured about twice as fast
as `unnest` of parameter arrays). A row is only replaced by a strictly newer
(occurred_at, event_id), so replays and reordering change nothing.

Association rows carry a copy of their ticket's list fields: filled from `tickets` when an
association is written, refreshed for the associations of every ticket the batch changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from operator import call
from typing import Any

import orjson
from psycopg import AsyncConnection

from ..domain import changes as ch

ORDER = (
    ch.CONTACTS,
    ch.COMPANIES,
    ch.TICKETS,
    ch.TICKET_CONTACTS,
    ch.TICKET_COMPANIES,
    ch.MESSAGES,
)
ASSOCIATIONS = (ch.TICKET_CONTACTS, ch.TICKET_COMPANIES)
_COPY_COLUMNS = ("live", "status", "pipeline", "t_created_at", "t_updated_at")
_COPY_SOURCES = (
    "coalesce(NOT t.deleted, false)",
    "t.status",
    "t.pipeline",
    "t.created_at",
    "t.updated_at",
)
_COPY_VALUES = ", ".join(_COPY_SOURCES)


def _columns(table: str) -> tuple[str, ...]:
    return (*ch.KEY_COLUMNS[table], *ch.VALUE_COLUMNS[table], "occurred_at", "event_id")


def _insert_sql(table: str, source: str) -> tuple[str, list[str]]:
    """`INSERT INTO table ... SELECT ... FROM source x`, association rows joined with their
    ticket for its list fields → (the statement, its target columns)."""
    columns = _columns(table)
    targets = list(columns)
    selected = [f"x.{c}" for c in columns]
    source = f"{source} x"
    if table in ASSOCIATIONS:
        targets += _COPY_COLUMNS
        selected.append(_COPY_VALUES)
        source += (
            " LEFT JOIN tickets t ON t.account_id = x.account_id AND t.ticket_id = x.ticket_id"
        )
    sql = f"INSERT INTO {table} ({', '.join(targets)}) SELECT {', '.join(selected)} FROM {source}"
    return sql, targets


def _merge_sql(table: str) -> str:
    keys = ch.KEY_COLUMNS[table]
    insert, targets = _insert_sql(table, f"tmp_{table}")
    updates = ", ".join(f"{c} = excluded.{c}" for c in targets if c not in keys)
    return (
        f"{insert} ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates} "
        f"WHERE (excluded.occurred_at, excluded.event_id) > ({table}.occurred_at, {table}.event_id)"
    )


def _refresh_sql(table: str) -> str:
    assignments = ", ".join(f"{c} = {v}" for c, v in zip(_COPY_COLUMNS, _COPY_SOURCES, strict=True))
    return (
        f"UPDATE {table} a SET {assignments} FROM tmp_tickets k JOIN tickets t "
        "ON t.account_id = k.account_id AND t.ticket_id = k.ticket_id "
        "WHERE a.account_id = k.account_id AND a.ticket_id = k.ticket_id AND "
        f"({', '.join('a.' + c for c in _COPY_COLUMNS)}) IS DISTINCT FROM ({_COPY_VALUES})"
    )


_MERGE = {table: _merge_sql(table) for table in ORDER}
_REFRESH = {table: _refresh_sql(table) for table in ASSOCIATIONS}
_TEMP = "; ".join(
    f"CREATE TEMP TABLE IF NOT EXISTS tmp_{t} (LIKE {t} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    for t in ORDER
)


async def prepare_session(conn: AsyncConnection) -> None:
    """Once per session, outside a batch's transaction: the temp tables, asynchronous commit,
    and nested-loop joins only.

    `synchronous_commit = off` is safe here: the tracking position commits in the same
    transaction as the rows, and the stream, not the consumer's acks, is the source of truth.
    A commit lost in a database crash (the last few hundred ms) takes its position with it,
    even if its messages were acked: at restart the consumer is recreated from the stored
    position and delivers them again.

    A batch is small next to the tables it joins; with unanalyzed temp tables and stale
    statistics (bulk load, rebuild) the planner otherwise hash-joins against the whole of
    `tickets` or an association table, and every batch gets slower as the tables grow."""
    await conn.execute(_TEMP)
    await conn.execute("SET synchronous_commit = off")
    await conn.execute("SET enable_hashjoin = off")
    await conn.execute("SET enable_mergejoin = off")


_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})
_json = json.JSONEncoder(separators=(",", ":")).encode


def _text(value: str | None) -> str:
    """A text field in COPY text format (escaped only when it has to be; `isprintable` is
    false for every control character, one scan instead of three)."""
    if value is None:
        return "\\N"
    if value.isprintable() and "\\" not in value:
        return value
    if "\\" in value or "\n" in value or "\r" in value or "\t" in value:
        return value.translate(_ESCAPES)
    return value


def _bool(value: bool | None) -> str:
    return "\\N" if value is None else ("t" if value else "f")


def _time(value: datetime | None) -> str:
    return "\\N" if value is None else value.isoformat()


def _jsonb(value: dict[str, Any] | None) -> str:
    """orjson (10x faster here); the standard encoder for what orjson refuses (integers
    beyond 64 bits). The same jsonb either way."""
    if value is None:
        return "\\N"
    if not value:
        return "{}"
    try:
        encoded = orjson.dumps(value).decode()
    except TypeError:
        encoded = _json(value)
    return _text(encoded)


_KIND: dict[str, Callable[[Any], str]] = {
    "deleted": _bool,
    "associated": _bool,
    "public": _bool,
    "created_at": _time,
    "updated_at": _time,
    "properties": _jsonb,
}
Line = Callable[[ch.Change], str]


def _line_for(table: str) -> Line:
    """One row of `table` in COPY text format, each column formatted by its known type."""
    formats: tuple[Callable[[Any], str], ...] = tuple(
        _KIND.get(c, _text) for c in ch.VALUE_COLUMNS[table]
    )

    def line(change: ch.Change) -> str:
        key = "\t".join(map(_text, change.key))
        values = "\t".join(map(call, formats, change.values))
        occurred_at, event_id = change.version
        return f"{key}\t{values}\t{occurred_at.isoformat()}\t{_text(event_id)}\n"

    return line


_LINE = {table: _line_for(table) for table in ORDER}


def copy_text(table: str, rows: list[ch.Change]) -> bytes:
    """The rows of one table as a COPY text payload."""
    line = _LINE[table]
    return "".join([line(c) for c in rows]).encode()


def copy_sql(table: str, target: str | None = None) -> str:
    return f"COPY {target or 'tmp_' + table} ({', '.join(_columns(table))}) FROM STDIN"


def encode_changes(by_table: dict[str, list[ch.Change]]) -> dict[str, bytes]:
    """The COPY payload of every table of a batch (done ahead, while the previous batch is
    written)."""
    return {table: copy_text(table, rows) for table, rows in by_table.items() if rows}


def merge_sql(tables: Iterable[str]) -> str:
    """All merges of a batch as one multi-statement string, in dependency order: tickets,
    then their copies on existing association rows, then new association rows (which read
    `tickets`). One round trip: the database never waits for the client between merges."""
    present = set(tables)
    statements = []
    for table in ORDER:
        if table in present:
            statements.append(_MERGE[table])
            if table == ch.TICKETS:
                statements.extend(_REFRESH.values())
    return ";\n".join(statements)


def _resolve_sql(table: str) -> str:
    keys = ", ".join(ch.KEY_COLUMNS[table])
    latest = (
        f"SELECT DISTINCT ON ({keys}) {', '.join(_columns(table))} FROM stage_{table} "
        f"ORDER BY {keys}, occurred_at DESC, event_id DESC, staged"
    )
    return _insert_sql(table, f"({latest})")[0]


_RESOLVE = {table: _resolve_sql(table) for table in ORDER}
RESOLVE_PHASES: tuple[tuple[tuple[str, ...], ...], ...] = (
    ((ch.TICKETS,), (ch.MESSAGES, ch.CONTACTS, ch.COMPANIES)),
    ((ch.TICKET_CONTACTS,), (ch.TICKET_COMPANIES,)),
)
"""Rebuild resolution in two phases of two independent parts each (one connection per part):
the associations copy their tickets' list fields, so tickets are in first."""


async def stage_changes(
    conn: AsyncConnection,
    by_table: dict[str, list[ch.Change]],
    first_seq: int,
    encoded: dict[str, bytes] | None = None,
    merging: Callable[[], None] | None = None,
) -> None:
    """Rebuild: a batch's winners COPied as they are into the staging tables, each row with
    the stream sequence of the batch's first message (`staged`). `merging` is called once the
    last payload is sent, while the database still works through it.

    `staged` is appended to every line of the ready payload: in COPY text format a raw newline
    only ends a row (newlines in values are escaped), so one bytes replace does it."""
    payloads = encoded if encoded is not None else encode_changes(by_table)
    tail = f"\t{first_seq}\n".encode()
    for i, (table, payload) in enumerate(payloads.items(), 1):
        sql = f"COPY stage_{table} ({', '.join(_columns(table))}, staged) FROM STDIN"
        async with conn.cursor().copy(sql) as copy:
            await copy.write(payload.replace(b"\n", tail))
            if i == len(payloads) and merging is not None:
                merging()


async def resolve_staged(conn: AsyncConnection, tables: tuple[str, ...]) -> None:
    """The staged changes of `tables` into the (empty) tables, in one transaction:
    last-writer-wins per key once for all, the latest (occurred_at, event_id), among equals
    the earliest in the stream (lowest `staged`: a batch stages one winner per key, and the
    batches of parallel replays interleave in time but not in stream order), exactly the row
    the incremental merges keep; tombstones stay rows."""
    async with conn.transaction():
        await conn.execute("SET LOCAL work_mem = '256MB'")
        for table in tables:
            await conn.execute(_RESOLVE[table])


async def write_changes(
    conn: AsyncConnection,
    by_table: dict[str, list[ch.Change]],
    encoded: dict[str, bytes] | None = None,
    merging: Callable[[], None] | None = None,
) -> None:
    """COPY per table into the session's temp tables, then one round trip for every merge.

    `merging` is called just before the merges are sent: the database works on them for a
    while, the caller may use its event loop for something else meanwhile."""
    payloads = encoded if encoded is not None else encode_changes(by_table)
    if not payloads:
        return
    for table, payload in payloads.items():
        async with conn.cursor().copy(copy_sql(table)) as copy:
            await copy.write(payload)
    if merging is not None:
        merging()
    await conn.execute(merge_sql(payloads), prepare=False)
