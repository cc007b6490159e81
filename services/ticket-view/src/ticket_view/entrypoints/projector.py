"""The projector: pulls a stream in batches and applies each batch in one transaction.

Order per batch: apply (rows + tracking position, one transaction) → commit → ack the last
message (the consumer acks ALL up to it). Batches are pipelined: the next batch is parsed,
collapsed and encoded while the database merges the previous one (not before: the write's
round trips would wait for it), so the client's and the database's work overlap; writes and
acks stay strictly in order. A crash between commit and ack loses nothing and doubles
nothing: at restart the consumer is recreated from the stored position.
Only one projector per projection runs at a time (a PostgreSQL advisory lock).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from time import perf_counter

import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from psycopg import AsyncConnection

from ..adapters import db
from ..adapters.crm_writer import encode_changes
from ..adapters.jetstream import NatsDeadLetters, PullFeed, start_consumer_at
from ..adapters.projection_store import PgProjectionStore
from ..application.projection import (
    BatchResult,
    Plan,
    Planner,
    Poison,
    StreamMessage,
    apply_batch,
)
from ..observability import Metrics

log = structlog.get_logger("ticket_view.projector")

AfterCommit = Callable[[str, BatchResult], Awaitable[None]]


@dataclass(frozen=True)
class ProjectionSpec:
    name: str
    stream: str
    planner: Planner

    @property
    def durable(self) -> str:
        return f"ticket-view-{self.name}"


def _stream_seq(msg: Msg) -> int:
    """The stream sequence from the ack subject `$JS.ACK.<stream>.<consumer>.<delivered>.
    <stream seq>.<consumer seq>.<time>.<pending>`, without building the whole metadata."""
    reply = msg.reply
    if reply.count(".") == 8:
        return int(reply.split(".", 6)[5])
    return int(msg.metadata.sequence.stream)


async def _until_merging(merging: asyncio.Event, writing: asyncio.Task[None]) -> None:
    """Until the batch being written has its merges in the database (or is done)."""
    waiting = asyncio.ensure_future(merging.wait())
    try:
        await asyncio.wait({waiting, writing}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiting.cancel()


class LoggedDeadLetters:
    """Parks, logs and counts every poison message."""

    def __init__(self, inner: NatsDeadLetters, metrics: Metrics, projection: str):
        self._inner = inner
        self._metrics = metrics
        self._projection = projection

    async def park(self, poison: Poison) -> None:
        await self._inner.park(poison)
        self._metrics.dead_letters.labels(self._projection, poison.reason).inc()
        log.warning(
            "poison_message_parked",
            projection=self._projection,
            reason=poison.reason,
            detail=poison.detail,
            stream_seq=poison.message.seq,
            subject=poison.message.subject,
        )


class Projector:
    def __init__(
        self,
        spec: ProjectionSpec,
        nc: Client,
        database_url: str,
        dead_letters: NatsDeadLetters,
        metrics: Metrics,
        batch_size: int = 1000,
        after_commit: AfterCommit | None = None,
        staged: bool = False,
        until: int | None = None,
    ):
        """`until` (a rebuild's replay part): messages after that stream sequence are another
        part's and are left alone."""
        self.spec = spec
        self._nc = nc
        self._js = nc.jetstream()
        self._url = database_url
        self._dead_letters = LoggedDeadLetters(dead_letters, metrics, spec.name)
        self._metrics = metrics
        self._batch = batch_size
        self._after_commit = after_commit
        self.position = 0
        self.applied = 0
        self._moved = asyncio.Event()
        self._staged = staged
        self._until = until

    async def run(self) -> None:
        """Runs until cancelled; restarts from the stored position after any failure."""
        delay = 0.2
        while True:
            try:
                await self._run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("projection_failed", projection=self.spec.name, retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _run_once(self) -> None:
        conn = await db.connect(self._url, autocommit=True)
        feed: PullFeed | None = None
        try:
            await self._lock(conn)
            store = PgProjectionStore(conn, staged=self._staged)
            self.position = await store.stored_position(self.spec.name)
            await start_consumer_at(
                self._js, self.spec.stream, self.spec.durable, self.position, 4 * self._batch
            )
            feed = PullFeed(self._nc, self.spec.stream, self.spec.durable, self._batch)
            await feed.start()
            log.info(
                "projection_started",
                projection=self.spec.name,
                position=self.position,
                staged=self._staged,
            )
            writing: asyncio.Task[None] | None = None
            try:
                while True:
                    if writing is not None:
                        await _until_merging(store.merging, writing)
                    messages = await feed.take(timeout=1.0 if writing is None else 0.0)
                    if self._until is not None and messages:
                        messages = self._within(messages, self._until)
                    prepared = self._prepare(messages) if messages else None
                    if writing is not None:
                        await writing
                        writing = None
                    if prepared is not None:
                        store.merging.clear()
                        writing = asyncio.create_task(self._apply(store, messages, *prepared))
            finally:
                if writing is not None and not writing.done():
                    writing.cancel()
                    with contextlib.suppress(BaseException):
                        await writing
        finally:
            if feed is not None:
                await feed.stop()
            with contextlib.suppress(Exception):
                await conn.close()

    @staticmethod
    def _within(messages: list[Msg], until: int) -> list[Msg]:
        if _stream_seq(messages[-1]) <= until:
            return messages
        return [m for m in messages if _stream_seq(m) <= until]

    async def _lock(self, conn: AsyncConnection) -> None:
        await conn.execute(
            "SELECT pg_advisory_lock(hashtext(%s))", (f"ticket-view:{self.spec.name}",)
        )

    def _prepare(self, messages: list[Msg]) -> tuple[list[StreamMessage], Plan, float]:
        """Parsed, collapsed and encoded ahead: runs while the database merges the previous
        batch."""
        started = perf_counter()
        batch = [StreamMessage(_stream_seq(m), m.subject, m.data) for m in messages]
        plan = self.spec.planner(batch)
        plan.encoded = encode_changes(plan.changes)
        return batch, plan, started

    async def _apply(
        self,
        store: PgProjectionStore,
        messages: list[Msg],
        batch: list[StreamMessage],
        plan: Plan,
        started: float,
    ) -> None:
        result = await apply_batch(
            store, self._dead_letters, self.spec.name, self.spec.planner, batch, plan
        )
        if self._after_commit is not None:
            await self._after_commit(self.spec.name, result)
        await messages[-1].ack()
        name = self.spec.name
        self.position = max(self.position, batch[-1].seq)
        self.applied += result.applied
        self._metrics.events.labels(name).inc(result.applied)
        self._metrics.skipped.labels(name).inc(result.skipped)
        self._metrics.position.labels(name).set(self.position)
        self._metrics.lag.labels(name).set(messages[-1].metadata.num_pending or 0)
        self._metrics.batch_seconds.labels(name).observe(perf_counter() - started)
        self._moved.set()

    async def wait_for(self, stream_seq: int, timeout: float = 30.0) -> None:
        """Until the projection has applied the stream up to `stream_seq`."""
        async with asyncio.timeout(timeout):
            while self.position < stream_seq:
                self._moved.clear()
                await self._moved.wait()
