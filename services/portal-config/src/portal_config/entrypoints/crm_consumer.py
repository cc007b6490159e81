"""Consumes contact events from the CRM stream (durable pull consumer `portal-config`) into the
contact projection, then evaluates the contact's access groups.

- The projection's tracking position is written with each contact; messages at or below it
  are acknowledged without effect (redelivery, replay). A consumer ahead of the stored
  position (the database was rebuilt) is recreated from the position.
- A poison message (not a `CrmRecord`) is parked on `<ns>.dlq.portal-config.<reason>`,
  logged, counted and acknowledged; it never blocks the stream.
- A contact whose evaluation failed stays flagged and is evaluated again by the sweep.
- One replica consumes at a time (a PostgreSQL session advisory lock held while consuming);
  the others stand by, so acknowledging a batch never acknowledges another's messages.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError
from portal_contracts import Namespace
from portal_contracts.crm import ContactDeleted, ContactUpserted, CrmRecord
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from pydantic import ValidationError

from ..adapters.contacts import PgContactStore
from ..application.access_groups import AccessGroups
from ..observability import CRM_MESSAGES, CRM_POSITION, DEAD_LETTERS

log = structlog.get_logger("portal_config.crm")

SERVICE = "portal-config"
DURABLE = "portal-config"
STREAM_IN_USE = 10058
CONSUMER_LOCK = 7_340_002


async def ensure_crm_stream(js: JetStreamContext, ns: Namespace) -> None:
    """Same configuration as every other service creating it; 'already exists' is fine."""
    config = StreamConfig(
        name=ns.crm_stream,
        subjects=[ns.crm_subjects],
        duplicate_window=120.0,
        storage=StorageType.FILE,
    )
    try:
        await js.add_stream(config)
    except BadRequestError as exc:
        if exc.err_code != STREAM_IN_USE:
            raise


class CrmConsumer:
    def __init__(
        self,
        js: JetStreamContext,
        ns: Namespace,
        contacts: PgContactStore,
        access: AccessGroups,
        pool: AsyncConnectionPool,
        *,
        batch: int = 200,
        sweep_interval: float = 30.0,
    ) -> None:
        self.js = js
        self.ns = ns
        self.contacts = contacts
        self.access = access
        self.pool = pool
        self.batch = batch
        self.sweep_interval = sweep_interval
        self._task: asyncio.Task[None] | None = None
        self._psub: JetStreamContext.PullSubscription | None = None
        self._position = 0

    async def start(self) -> None:
        await ensure_crm_stream(self.js, self.ns)
        self._position = await self.contacts.position(DURABLE)
        await self._ensure_consumer()
        self._psub = await self.js.pull_subscribe_bind(DURABLE, stream=self.ns.crm_stream)
        self._task = asyncio.create_task(self._run(), name="crm-consumer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        if self._psub is not None:
            with contextlib.suppress(Exception):
                await self._psub.unsubscribe()
            self._psub = None

    async def _ensure_consumer(self) -> None:
        stream = self.ns.crm_stream
        with contextlib.suppress(NotFoundError):
            info = await self.js.consumer_info(stream, DURABLE)
            if info.ack_floor is None or (info.ack_floor.stream_seq or 0) <= self._position:
                return
            await self.js.delete_consumer(stream, DURABLE)
        prefix = self.ns.crm_subject("*", "x").rsplit(".", 1)[0]
        config = ConsumerConfig(
            durable_name=DURABLE,
            ack_policy=AckPolicy.ALL,
            ack_wait=60.0,
            max_deliver=-1,
            filter_subjects=[f"{prefix}.contact_upserted", f"{prefix}.contact_deleted"],
        )
        if self._position > 0:
            config.deliver_policy = DeliverPolicy.BY_START_SEQUENCE
            config.opt_start_seq = self._position + 1
        await self.js.add_consumer(stream, config)

    async def _run(self) -> None:
        while True:
            try:
                async with self.pool.connection() as lock_conn:
                    await lock_conn.set_autocommit(True)
                    try:
                        await self._lead(lock_conn)
                    finally:
                        with contextlib.suppress(Exception):
                            await lock_conn.set_autocommit(False)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("crm_consumer_failed")
            await asyncio.sleep(1.0)

    async def _lead(self, lock_conn: AsyncConnection[Any]) -> None:
        cur = await lock_conn.execute("SELECT pg_try_advisory_lock(%s)", (CONSUMER_LOCK,))
        row = await cur.fetchone()
        if not row or not row[0]:
            return
        try:
            await self._consume(lock_conn)
        finally:
            with contextlib.suppress(Exception):
                await lock_conn.execute("SELECT pg_advisory_unlock(%s)", (CONSUMER_LOCK,))

    async def _consume(self, lock_conn: AsyncConnection[Any]) -> None:
        """Consumes while holding the lock; the lock's connection is checked every round."""
        psub = self._psub
        assert psub is not None
        self._position = await self.contacts.position(DURABLE)
        await self.sweep()
        loop = asyncio.get_running_loop()
        next_sweep = loop.time() + self.sweep_interval
        while True:
            await lock_conn.execute("SELECT 1")
            try:
                msgs = await psub.fetch(self.batch, timeout=1.0)
            except TimeoutError:
                msgs = []
            if msgs:
                await self.handle(msgs)
                await msgs[-1].ack()
            if loop.time() >= next_sweep:
                await self.sweep()
                next_sweep = loop.time() + self.sweep_interval

    async def handle(self, msgs: list[Msg]) -> None:
        """One fetched batch: poison parked, contact events applied with the position in one
        transaction, then the changed contacts' access groups evaluated."""
        events: list[tuple[str, ContactUpserted | ContactDeleted]] = []
        last = self._position
        for msg in msgs:
            seq = msg.metadata.sequence.stream
            if seq <= self._position:
                CRM_MESSAGES.labels("duplicate").inc()
                continue
            last = max(last, seq)
            try:
                record = CrmRecord.model_validate_json(msg.data)
            except ValidationError as exc:
                await self._park(msg, seq, "unparseable", str(exc).splitlines()[0])
                continue
            if isinstance(record.event, ContactUpserted | ContactDeleted):
                events.append((record.account_id, record.event))
            else:
                CRM_MESSAGES.labels("ignored").inc()
        if last == self._position:
            return
        changed = await self.contacts.apply(events, DURABLE, last)
        self._position = last
        CRM_POSITION.set(last)
        CRM_MESSAGES.labels("applied").inc(len(changed))
        CRM_MESSAGES.labels("ignored").inc(len(events) - len(changed))
        await self.access.evaluate_contacts(changed)

    async def sweep(self) -> None:
        """Evaluates contacts left flagged by a crash or a failed evaluation."""
        await self.access.evaluate_contacts(await self.contacts.needing_evaluation())

    async def _park(self, msg: Msg, seq: int, reason: str, detail: str) -> None:
        headers = {
            "Nats-Msg-Id": f"{SERVICE}-{self.ns.crm_stream}-{seq}",
            "X-Dlq-Reason": reason,
            "X-Dlq-Detail": detail.replace("\r", " ").replace("\n", " ")[:500],
            "X-Dlq-Source-Stream": self.ns.crm_stream,
            "X-Dlq-Source-Subject": msg.subject,
            "X-Dlq-Source-Sequence": str(seq),
        }
        await self.js.publish(self.ns.dlq_subject(SERVICE, reason), msg.data, headers=headers)
        DEAD_LETTERS.labels(reason).inc()
        log.warning("crm_message_parked", reason=reason, seq=seq, detail=detail)
