"""CRM ingest onto JetStream: the CRM stream and pipelined, de-duplicated publishing.

Each event travels as `portal_contracts.crm.CrmRecord{account_id, event}` on
`<ns>.crm.v1.<account>.<type>` with `Nats-Msg-Id = <account_id>:<event_id>`, so a re-sent
event within the stream's duplicate window is stored once (its ack says `duplicate`).
The account is part of the id because
JetStream de-duplicates across the whole stream: two accounts may use the same event ids.
A batch is published through an `AckPipeline` (a bounded number of acks in flight, shared
by all concurrent batches) and is accepted only when every event has been acked.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import nats.errors
import nats.js.errors
import structlog
from faststream.exceptions import IncorrectState
from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from portal_contracts import Namespace
from portal_contracts.crm import CrmEvent

from .ack_pipeline import AckPipeline, PublishRefused

log = structlog.get_logger("gateway.crm")

STREAM_IN_USE = 10058
DUPLICATE_WINDOW_SECONDS = 120.0
MSG_ID = "Nats-Msg-Id"


def crm_stream_config(ns: Namespace) -> StreamConfig:
    """The same definition ticket-view declares: whichever service starts first creates it."""
    return StreamConfig(
        name=ns.crm_stream,
        subjects=[ns.crm_subjects],
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        storage=StorageType.FILE,
    )


class StreamUnavailable(Exception):
    """NATS or the CRM stream did not acknowledge every event of the batch."""


@dataclass(frozen=True)
class Published:
    accepted: int
    duplicates: int


def msg_id(account_id: str, event_id: str) -> str:
    return f"{account_id}:{event_id}"


def record_prefix(account_id: str) -> bytes:
    return b'{"account_id":' + json.dumps(account_id).encode() + b',"event":'


def encode_record(prefix: bytes, event: CrmEvent) -> bytes:
    """`CrmRecord{account_id, event}` JSON, spliced: one serializer call per event (building
    a `CrmRecord` per event costs several times more)."""
    return prefix + event.__pydantic_serializer__.to_json(event) + b"}"


class CrmPublisher:
    def __init__(
        self, broker: NatsBroker, ns: Namespace, max_in_flight: int, ack_timeout: float
    ) -> None:
        self._broker = broker
        self._ns = ns
        self._max_in_flight = max_in_flight
        self._ack_timeout = ack_timeout
        self._js: JetStreamContext | None = None
        self._nc: Client | None = None
        self._pipeline: AckPipeline | None = None
        self._lock = asyncio.Lock()
        self._stream_ready = False

    def _context(self) -> JetStreamContext:
        try:
            nc = self._broker.connection
        except IncorrectState as exc:
            raise StreamUnavailable("NATS is not connected") from exc
        if not nc.is_connected:
            raise StreamUnavailable("NATS is not connected")
        if self._js is None or self._nc is not nc:
            self._nc = nc
            self._js = nc.jetstream()
        return self._js

    async def _ready_pipeline(self) -> AckPipeline:
        self._context()
        assert self._nc is not None
        if self._pipeline is None or self._pipeline.nc is not self._nc:
            async with self._lock:
                if self._pipeline is None or self._pipeline.nc is not self._nc:
                    pipeline = AckPipeline(self._nc, self._max_in_flight)
                    await pipeline.start()
                    self._pipeline = pipeline
        return self._pipeline

    async def ensure_stream(self) -> None:
        """Idempotent: 'already in use' (created by ticket-view or a previous start) is fine."""
        js = self._context()
        try:
            await js.add_stream(crm_stream_config(self._ns))
        except nats.js.errors.BadRequestError as exc:
            if exc.err_code != STREAM_IN_USE:
                raise
        self._stream_ready = True
        log.info("crm_stream_ready", stream=self._ns.crm_stream)

    async def publish(self, account_id: str, events: Sequence[CrmEvent]) -> Published:
        """All or nothing from the caller's view: any missing ack → `StreamUnavailable`
        (events already stored stay stored; a retry with the same ids is de-duplicated)."""
        prefix = record_prefix(account_id)
        messages = (
            (
                self._ns.crm_subject(account_id, event.type),
                encode_record(prefix, event),
                {MSG_ID: msg_id(account_id, event.event_id)},
            )
            for event in events
        )
        try:
            async with asyncio.timeout(self._ack_timeout):
                pipeline = await self._ready_pipeline()
                if not self._stream_ready:
                    with contextlib.suppress(nats.errors.Error, nats.js.errors.Error):
                        await self.ensure_stream()
                duplicates = await pipeline.publish(messages)
        except (TimeoutError, nats.errors.Error, PublishRefused) as exc:
            if isinstance(exc, PublishRefused) and exc.no_stream:
                self._stream_ready = False
            log.warning("crm_publish_failed", error=type(exc).__name__, events=len(events))
            raise StreamUnavailable(f"{type(exc).__name__}: {exc}"[:300]) from exc
        return Published(accepted=len(events) - duplicates, duplicates=duplicates)
