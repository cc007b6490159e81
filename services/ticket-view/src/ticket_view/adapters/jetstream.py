"""JetStream plumbing: idempotent streams, consumers started from the read model's position,
a low-latency batching pull feed and the dead-letter publisher."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError
from portal_contracts import Namespace

from ..application.projection import Poison

SERVICE = "ticket-view"
STREAM_IN_USE = 10058


async def _ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    """Either service may create a shared stream first: same config, 'already exists' is fine."""
    try:
        await js.add_stream(config)
    except BadRequestError as exc:
        if exc.err_code != STREAM_IN_USE:
            raise


async def ensure_streams(js: JetStreamContext, ns: Namespace) -> None:
    await _ensure_stream(
        js,
        StreamConfig(
            name=ns.crm_stream,
            subjects=[ns.crm_subjects],
            duplicate_window=120.0,
            storage=StorageType.FILE,
        ),
    )
    await _ensure_stream(js, StreamConfig(name=ns.config_stream, subjects=[ns.config_subjects]))
    await _ensure_stream(js, StreamConfig(name=ns.dlq_stream, subjects=[ns.dlq_subjects]))


async def start_consumer_at(
    js: JetStreamContext, stream: str, durable: str, position: int, max_ack_pending: int
) -> None:
    """(Re)creates the durable pull consumer so that it delivers from `position + 1`.

    The read model's tracking position is the truth; the consumer is derived from it, so a
    restored, rebuilt or crashed read model never skips nor re-applies a message."""
    with contextlib.suppress(NotFoundError):
        await js.delete_consumer(stream, durable)
    config = ConsumerConfig(
        durable_name=durable,
        ack_policy=AckPolicy.ALL,
        ack_wait=60.0,
        max_deliver=-1,
        max_ack_pending=max_ack_pending,
        max_waiting=16,
    )
    if position > 0:
        config.deliver_policy = DeliverPolicy.BY_START_SEQUENCE
        config.opt_start_seq = position + 1
    await js.add_consumer(stream, config)


class ConsumerGone(RuntimeError):
    pass


class PullFeed:
    """Keeps pull requests outstanding and hands out whatever has arrived, up to `batch`.

    Unlike a blocking `fetch(batch)`, a lone message is handed out as soon as it arrives
    (freshness), while a backlog still comes in batches (throughput)."""

    def __init__(self, nc: Client, stream: str, durable: str, batch: int, expires: float = 15.0):
        self._nc = nc
        self._next_subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self._batch = batch
        self._expires_ns = int(expires * 1_000_000_000)
        self._buffer: deque[Msg] = deque()
        self._arrived = asyncio.Event()
        self._outstanding = 0
        self._inbox = ""
        self._sub: Subscription | None = None
        self._gone = False

    async def start(self) -> None:
        self._inbox = self._nc.new_inbox()
        self._sub = await self._nc.subscribe(self._inbox, cb=self._on_msg, pending_msgs_limit=-1)
        await self._request()

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None

    async def _request(self) -> None:
        wanted = 2 * self._batch - self._outstanding - len(self._buffer)
        if wanted < self._batch // 2 or self._sub is None:
            return
        self._outstanding += wanted
        body = {"batch": wanted, "expires": self._expires_ns}
        await self._nc.publish(self._next_subject, json.dumps(body).encode(), reply=self._inbox)

    async def _on_msg(self, msg: Msg) -> None:
        status = msg.headers.get("Status") if msg.headers else None
        if status is None and msg.reply:
            self._outstanding -= 1
            self._buffer.append(msg)
            self._arrived.set()
            return
        if status in ("408", "409"):
            headers = msg.headers or {}
            pending = headers.get("Nats-Pending-Messages")
            self._outstanding = max(0, self._outstanding - int(pending or self._outstanding))
            if "deleted" in headers.get("Description", "").lower():
                self._gone = True
                self._arrived.set()
            elif status == "408":
                await self._request()

    async def take(self, timeout: float) -> list[Msg]:
        """Up to `batch` messages, waiting at most `timeout` for the first one."""
        if self._gone:
            raise ConsumerGone("the consumer was deleted")
        await self._request()
        if not self._buffer:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), timeout)
        taken: list[Msg] = []
        while self._buffer and len(taken) < self._batch:
            taken.append(self._buffer.popleft())
        return taken


class NatsDeadLetters:
    """Parks a poison message on `<ns>.dlq.ticket-view.<reason>` with its raw payload.

    `Nats-Msg-Id` is derived from the source position, so parking again after a crash is
    de-duplicated by the DLQ stream."""

    def __init__(self, js: JetStreamContext, ns: Namespace, source_stream: str):
        self._js = js
        self._ns = ns
        self._source = source_stream

    async def park(self, poison: Poison) -> None:
        headers = {
            "Nats-Msg-Id": f"{SERVICE}-{self._source}-{poison.message.seq}",
            "X-Dlq-Reason": poison.reason,
            "X-Dlq-Detail": poison.detail.replace("\r", " ").replace("\n", " "),
            "X-Dlq-Source-Stream": self._source,
            "X-Dlq-Source-Subject": poison.message.subject,
            "X-Dlq-Source-Sequence": str(poison.message.seq),
        }
        await self._js.publish(
            self._ns.dlq_subject(SERVICE, poison.reason), poison.message.data, headers=headers
        )
