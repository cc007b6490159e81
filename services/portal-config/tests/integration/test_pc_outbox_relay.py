"""Outbox relay: a relay killed between commit and publish, or between publish and marking,
neither loses nor duplicates an event once a new relay takes over."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest
from devstack.testing import eventually
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from portal_config.adapters.event_store import EventStore, NewEvent
from portal_config.adapters.jetstream import ensure_streams
from portal_config.adapters.outbox import OutboxRelay
from portal_contracts import Namespace
from psycopg_pool import AsyncConnectionPool


class Crash(Exception):
    pass


async def stream_msg_ids(js: JetStreamContext, stream: str) -> Counter[str]:
    """Every message in the stream, counted by its `Nats-Msg-Id`."""
    info = await js.stream_info(stream)
    ids: Counter[str] = Counter()
    if info.state.messages:
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg(stream, seq)
            ids[(msg.headers or {})["Nats-Msg-Id"]] += 1
    return ids


async def unpublished(pool: AsyncConnectionPool) -> int:
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def append_events(pool: AsyncConnectionPool, namespace: Namespace, n: int) -> list[str]:
    store = EventStore(pool)
    ids = []
    for version in range(n):
        event_id = uuid.uuid4().hex
        ids.append(event_id)
        await store.append(
            "portal-x",
            version,
            [
                NewEvent(
                    event_id=event_id,
                    type="portal.settings_changed",
                    account_id="acc",
                    occurred_at=datetime.now(UTC),
                    payload={"n": version},
                    subject=namespace.config_subject("acc", "portal.settings_changed"),
                )
            ],
        )
    return ids


@pytest.fixture
async def js(nc: NatsClient, namespace: Namespace) -> JetStreamContext:
    context = nc.jetstream()
    await ensure_streams(context, namespace)
    return context


async def test_crash_after_publish_before_marking(
    pc_pool: AsyncConnectionPool, js: JetStreamContext, namespace: Namespace
) -> None:
    ids = await append_events(pc_pool, namespace, 10)
    published: list[str] = []

    async def crash_on_fourth(point: str, event_id: str) -> None:
        if point == "after_publish":
            published.append(event_id)
            if len(published) == 4:
                raise Crash

    with pytest.raises(Crash):
        await OutboxRelay(pc_pool, js, fault=crash_on_fourth).relay_once()
    assert await unpublished(pc_pool) == 10
    assert set(await stream_msg_ids(js, namespace.config_stream)) == set(ids[:4])

    assert await OutboxRelay(pc_pool, js).relay_once() == 10
    assert await unpublished(pc_pool) == 0
    assert await stream_msg_ids(js, namespace.config_stream) == Counter(ids)


async def test_crash_after_commit_before_publish(
    pc_pool: AsyncConnectionPool, js: JetStreamContext, namespace: Namespace
) -> None:
    ids = await append_events(pc_pool, namespace, 5)

    async def crash_before_first(point: str, event_id: str) -> None:
        if point == "before_publish":
            raise Crash

    with pytest.raises(Crash):
        await OutboxRelay(pc_pool, js, fault=crash_before_first).relay_once()
    assert await stream_msg_ids(js, namespace.config_stream) == Counter()
    assert await unpublished(pc_pool) == 5

    assert await OutboxRelay(pc_pool, js).relay_once() == 5
    assert await stream_msg_ids(js, namespace.config_stream) == Counter(ids)


async def test_relay_task_killed_mid_batch_then_a_new_relay_takes_over(
    pc_pool: AsyncConnectionPool, js: JetStreamContext, namespace: Namespace
) -> None:
    ids = await append_events(pc_pool, namespace, 8)
    stuck = asyncio.Event()

    async def hang_after_third(point: str, event_id: str) -> None:
        if point == "after_publish" and event_id == ids[2]:
            stuck.set()
            await asyncio.Event().wait()

    first = OutboxRelay(pc_pool, js, fault=hang_after_third)
    first.start()
    await asyncio.wait_for(stuck.wait(), 5)
    await first.stop()
    assert await unpublished(pc_pool) == 8

    second = OutboxRelay(pc_pool, js, poll_interval=0.05)
    second.start()
    try:
        await eventually(lambda: unpublished_is_zero(pc_pool), timeout=5)
    finally:
        await second.stop()
    assert await stream_msg_ids(js, namespace.config_stream) == Counter(ids)


async def unpublished_is_zero(pool: AsyncConnectionPool) -> bool:
    return await unpublished(pool) == 0


async def test_relay_wakes_on_notify_from_another_process(
    pc_pool: AsyncConnectionPool, pc_db: str, js: JetStreamContext, namespace: Namespace
) -> None:
    """LISTEN/NOTIFY wakes the relay well before its (here: 30 s) poll interval."""
    relay = OutboxRelay(pc_pool, js, database_url=pc_db, poll_interval=30)
    relay.start()
    try:
        await asyncio.sleep(0.3)
        started = time.perf_counter()
        [event_id] = await append_events(pc_pool, namespace, 1)

        async def arrived() -> bool:
            return event_id in await stream_msg_ids(js, namespace.config_stream)

        await eventually(arrived, timeout=5, interval=0.005)
        assert time.perf_counter() - started < 1.0
    finally:
        await relay.stop()


async def test_two_relays_publish_each_event_once_in_commit_order(
    pc_pool: AsyncConnectionPool, js: JetStreamContext, namespace: Namespace
) -> None:
    relays = [OutboxRelay(pc_pool, js, poll_interval=0.02, batch_size=5) for _ in range(2)]
    for relay in relays:
        relay.start()
    try:
        ids = await append_events(pc_pool, namespace, 30)
        await eventually(lambda: unpublished_is_zero(pc_pool), timeout=10)
    finally:
        for relay in relays:
            await relay.stop()
    info = await js.stream_info(namespace.config_stream)
    order = [
        (await js.get_msg(namespace.config_stream, seq)).headers["Nats-Msg-Id"]  # type: ignore[index]
        for seq in range(info.state.first_seq, info.state.last_seq + 1)
    ]
    assert order == ids
