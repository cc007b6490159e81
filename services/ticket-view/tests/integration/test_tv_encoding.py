"""Timestamps in replies are UTC `...Z` whatever time zone the database is set to: the query
connections run in UTC, and the encoder writes aware datetimes as they come."""

from __future__ import annotations

from datetime import timedelta

import psycopg
from psycopg.conninfo import conninfo_to_dict
from ticket_view.adapters.db import open_pool
from ticket_view.entrypoints.rpc import _encode


async def test_query_connections_answer_in_utc_whatever_the_database_zone(make_database):
    url = make_database("tz")
    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE \"{name}\" SET TIME ZONE 'America/New_York'")
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT '2026-01-01T12:00:00Z'::timestamptz").fetchone()
        assert row is not None and row[0].utcoffset() != timedelta(0), "the zone took effect"

    pool = await open_pool(url, min_size=1, max_size=1)
    try:
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT '2026-01-01T12:00:00.5Z'::timestamptz")
            row = await cur.fetchone()
    finally:
        await pool.close()
    assert row is not None
    assert _encode({"at": row[0]}) == b'{"at":"2026-01-01T12:00:00.500000Z"}'
    assert _encode({"big": 2**70}) == b'{"big":1180591620717411303424}'
