"""Relays the outbox to JetStream: at-least-once from PostgreSQL, deduplicated by JetStream.

One round: take the relay lock (a transaction-scoped advisory lock, so that of several
relays only one publishes at a time and events leave in commit order), lock the oldest
unpublished rows (`FOR UPDATE SKIP LOCKED`), publish each with `Nats-Msg-Id = event_id`,
await the acks, mark the rows published, commit. A crash anywhere before the commit leaves
the rows unpublished; the next relay publishes them again and JetStream drops the repeat
(same `Nats-Msg-Id` within the stream's duplicate window). The relay wakes on an in-process
signal after a local append, on PostgreSQL `NOTIFY` after an append by another process, and
otherwise polls.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
import structlog
from nats.js import JetStreamContext
from portal_contracts import CORRELATION_HEADER
from psycopg_pool import AsyncConnectionPool

from ..observability import OUTBOX_DUPLICATES, OUTBOX_ERRORS, OUTBOX_LAG, OUTBOX_PUBLISHED
from .db import OUTBOX_CHANNEL, conninfo

log = structlog.get_logger("portal_config.outbox")

RELAY_LOCK = 7_340_001
FaultHook = Callable[[str, str], Awaitable[None]]
"""Test seam: awaited as `fault(point, event_id)` at "before_publish" and "after_publish"."""


class OutboxRelay:
    def __init__(
        self,
        pool: AsyncConnectionPool,
        js: JetStreamContext,
        *,
        database_url: str | None = None,
        poll_interval: float = 0.5,
        batch_size: int = 200,
        fault: FaultHook | None = None,
    ) -> None:
        self.pool = pool
        self.js = js
        self.database_url = database_url
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.fault = fault
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._stopping = False
        self._tasks.append(asyncio.create_task(self._run(), name="outbox-relay"))
        if self.database_url:
            self._tasks.append(asyncio.create_task(self._listen(), name="outbox-listen"))

    async def stop(self) -> None:
        """Cancels the loops; a round cut short rolls back and is redone by the next relay."""
        self._stopping = True
        self._wake.set()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=10)
            for task in pending:
                log.warning("outbox_task_did_not_stop", task=task.get_name())
        self._tasks.clear()

    async def relay_once(self) -> int:
        """Publishes one batch; returns how many rows it marked published."""
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (RELAY_LOCK,))
            locked = await cur.fetchone()
            if not locked or not locked[0]:
                return 0
            cur = await conn.execute(
                "SELECT position, event_id, subject, payload, correlation_id FROM outbox"
                " WHERE published_at IS NULL ORDER BY position LIMIT %s FOR UPDATE SKIP LOCKED",
                (self.batch_size,),
            )
            rows = await cur.fetchall()
            OUTBOX_LAG.set(len(rows))
            for _position, event_id, subject, payload, correlation_id in rows:
                await self._publish(event_id, subject, bytes(payload), correlation_id)
            if rows:
                await conn.execute(
                    "UPDATE outbox SET published_at = now() WHERE position = ANY(%s)",
                    ([row[0] for row in rows],),
                )
        OUTBOX_PUBLISHED.inc(len(rows))
        return len(rows)

    async def _publish(
        self, event_id: str, subject: str, payload: bytes, correlation_id: str | None
    ) -> None:
        if self.fault:
            await self.fault("before_publish", event_id)
        headers = {"Nats-Msg-Id": event_id}
        if correlation_id:
            headers[CORRELATION_HEADER] = correlation_id
        ack = await self.js.publish(subject, payload, headers=headers, timeout=5)
        if ack.duplicate:
            OUTBOX_DUPLICATES.inc()
            log.info("outbox_duplicate_publish", event_id=event_id, seq=ack.seq)
        if self.fault:
            await self.fault("after_publish", event_id)

    async def _run(self) -> None:
        backoff = self.poll_interval
        while not self._stopping:
            self._wake.clear()
            try:
                while await self.relay_once() >= self.batch_size:
                    pass
                backoff = self.poll_interval
            except asyncio.CancelledError:
                raise
            except Exception:
                OUTBOX_ERRORS.inc()
                log.exception("outbox_relay_failed")
                backoff = min(backoff * 2, 5.0)
                await asyncio.sleep(backoff)
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()

    async def _listen(self) -> None:
        assert self.database_url is not None
        while not self._stopping:
            try:
                conn: psycopg.AsyncConnection[Any] = await psycopg.AsyncConnection.connect(
                    conninfo(self.database_url), autocommit=True
                )
                async with conn:
                    await conn.execute(f"LISTEN {OUTBOX_CHANNEL}")
                    async for _ in conn.notifies():
                        self._wake.set()
                        if self._stopping:
                            return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("outbox_listen_failed", exc_info=True)
                await asyncio.sleep(1.0)
