"""The projector: pulls a stream in batches and applies each batch in one transaction.

Order per batch: apply (rows + tracking position, one transaction) → commit → ack the last
message (the consumer acks ALL up to it). Batches are pipelined: the next batch is parsed,
collapsed and encoded in a worker process while the previous one is written, so that the
event loop stays free for the database's and NATS's round trips and the two cores work at
once; writes and acks stay strictly in order. A small batch (the live case: freshness) is
prepared inline, where the round trip to the worker would cost more than it saves.
A crash between commit and ack loses nothing and doubles nothing: at restart the consumer
is recreated from the stored position.
Only one projector per projection runs at a time (a PostgreSQL advisory lock).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
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


def prepare_plan(planner: Planner, batch: Sequence[StreamMessage]) -> Plan:
    """Parse, collapse and encode one batch (in the worker process or inline).

    Only the COPY payloads leave a worker: the row changes they encode would cost as much to
    pickle as to build."""
    plan = planner(batch)
    plan.encoded = encode_changes(plan.changes)
    return plan


def _in_worker(planner: Planner, seqs: list[int], subjects: list[str], data: list[bytes]) -> Plan:
    """The batch travels as three plain lists: pickling named tuples costs ~8x more."""
    plan = prepare_plan(planner, list(map(StreamMessage, seqs, subjects, data)))
    plan.changes = {}
    return plan


def _worker_init(thresholds: tuple[int, int, int]) -> None:
    gc.set_threshold(*thresholds)


def _ready() -> bool:
    return True


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
    inline_below = 256
    """Batches smaller than this are prepared inline, not in the worker process."""

    def __init__(
        self,
        spec: ProjectionSpec,
        nc: Client,
        database_url: str,
        dead_letters: NatsDeadLetters,
        metrics: Metrics,
        batch_size: int = 1000,
        after_commit: AfterCommit | None = None,
        worker: bool = True,
        staged: bool = False,
    ):
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
        self._use_worker = worker
        self._staged = staged
        self._pool: ProcessPoolExecutor | None = None
        self._pool_ready: Future[bool] | None = None

    async def run(self) -> None:
        """Runs until cancelled; restarts from the stored position after any failure."""
        delay = 0.2
        try:
            while True:
                try:
                    await self._run_once()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.exception("projection_failed", projection=self.spec.name, retry_in=delay)
                    if isinstance(exc, BrokenProcessPool):
                        self.start_worker()
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None

    def start_worker(self) -> None:
        """One spawned worker process (fork is unsafe next to the event loop's threads),
        started with the first large batch (a backlog; live traffic comes in small ones); it
        starts in the background and is used once it answers."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_init,
            initargs=(gc.get_threshold(),),
        )
        self._pool_ready = self._pool.submit(_ready)

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
                    messages = await feed.take(timeout=1.0 if writing is None else 0.0)
                    preparing = self._prepare(messages) if messages else None
                    if writing is not None:
                        await writing
                        writing = None
                    if preparing is not None:
                        batch, plan, started = preparing
                        if not isinstance(plan, Plan):
                            plan = await plan
                        writing = asyncio.create_task(
                            self._apply(store, messages, batch, plan, started)
                        )
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

    async def _lock(self, conn: AsyncConnection) -> None:
        await conn.execute(
            "SELECT pg_advisory_lock(hashtext(%s))", (f"ticket-view:{self.spec.name}",)
        )

    def _prepare(
        self, messages: list[Msg]
    ) -> tuple[list[StreamMessage], Plan | asyncio.Future[Plan], float]:
        """Parsed, collapsed and encoded ahead, while the previous batch is being written: in
        the worker process when it is up and the batch is large, else inline."""
        started = perf_counter()
        batch = [StreamMessage(_stream_seq(m), m.subject, m.data) for m in messages]
        large = len(batch) >= self.inline_below
        if large and self._use_worker and self._pool is None:
            self.start_worker()
        if not large or self._pool is None or not self.worker_up():
            return batch, prepare_plan(self.spec.planner, batch), started
        loop = asyncio.get_running_loop()
        work = loop.run_in_executor(
            self._pool,
            _in_worker,
            self.spec.planner,
            [m.seq for m in batch],
            [m.subject for m in batch],
            [m.data for m in batch],
        )
        return batch, work, started

    def worker_up(self) -> bool:
        ready = self._pool_ready
        return ready is not None and ready.done() and ready.exception() is None

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
