"""Event store: optimistic concurrency under real concurrent writers on PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from portal_config.adapters.event_store import ConcurrencyError, EventStore, NewEvent
from psycopg_pool import AsyncConnectionPool

WRITERS = 20


def new_event(label: str) -> NewEvent:
    return NewEvent(
        event_id=uuid.uuid4().hex,
        type="test.happened",
        account_id="acc",
        occurred_at=datetime.now(UTC),
        payload={"writer": label},
        subject="t.config.v1.acc.test_happened",
    )


async def outbox_count(pool: AsyncConnectionPool) -> int:
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT count(*) FROM outbox")
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def test_of_twenty_writers_of_the_same_version_exactly_one_wins(
    pc_pool: AsyncConnectionPool,
) -> None:
    store = EventStore(pc_pool)
    results = await asyncio.gather(
        *(store.append("s1", 0, [new_event(str(n))]) for n in range(WRITERS)),
        return_exceptions=True,
    )
    assert results.count(1) == 1
    losers = [r for r in results if r != 1]
    assert len(losers) == WRITERS - 1
    assert all(isinstance(r, ConcurrencyError) for r in losers)
    assert [e.version for e in await store.read("s1")] == [1]
    assert await outbox_count(pc_pool) == 1


async def test_twenty_retrying_writers_get_every_version_exactly_once(
    pc_pool: AsyncConnectionPool,
) -> None:
    store = EventStore(pc_pool)
    losses = 0
    start = asyncio.Event()

    async def writer(label: str) -> None:
        nonlocal losses
        event = new_event(label)
        await start.wait()
        while True:
            version = len(await store.read("s2"))
            try:
                await store.append("s2", version, [event])
                return
            except ConcurrencyError:
                losses += 1

    tasks = [asyncio.create_task(writer(str(n))) for n in range(WRITERS)]
    await asyncio.sleep(0.05)
    start.set()
    await asyncio.gather(*tasks)
    events = await store.read("s2")
    assert [e.version for e in events] == list(range(1, WRITERS + 1))
    assert sorted(e.payload["writer"] for e in events) == sorted(str(n) for n in range(WRITERS))
    assert losses >= 1
    assert await outbox_count(pc_pool) == WRITERS


async def test_round_by_round_the_losers_get_the_concurrency_error(
    pc_pool: AsyncConnectionPool,
) -> None:
    store = EventStore(pc_pool)
    remaining = [str(n) for n in range(WRITERS)]
    while remaining:
        version = len(await store.read("s3"))
        results = await asyncio.gather(
            *(store.append("s3", version, [new_event(w)]) for w in remaining),
            return_exceptions=True,
        )
        winners = [w for w, r in zip(remaining, results, strict=True) if r == version + 1]
        assert len(winners) == 1
        assert sum(isinstance(r, ConcurrencyError) for r in results) == len(remaining) - 1
        remaining.remove(winners[0])
    assert [e.version for e in await store.read("s3")] == list(range(1, WRITERS + 1))


async def test_an_expected_version_ahead_of_the_stream_is_refused(
    pc_pool: AsyncConnectionPool,
) -> None:
    store = EventStore(pc_pool)
    await store.append("s4", 0, [new_event("a")])
    with pytest.raises(ConcurrencyError):
        await store.append("s4", 3, [new_event("b")])
    with pytest.raises(ConcurrencyError):
        await store.append("s4", 0, [new_event("c")])
    assert await store.append("s4", 1, [new_event("d"), new_event("e")]) == 3
    assert [e.payload["writer"] for e in await store.read("s4")] == ["a", "d", "e"]
    assert await outbox_count(pc_pool) == 3
