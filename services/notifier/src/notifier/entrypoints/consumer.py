"""The member-event consumer: a durable JetStream pull consumer on the config stream.

Each message is recorded in the notifier's own table (one transaction) and only then acked,
so a crash before the ack means a redelivery, which records nothing new. A message that
cannot be understood is parked on the DLQ subject, logged, counted and acked: it never blocks
the stream. A database failure is not the message's fault: it is redelivered later.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta

import nats.errors
import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from portal_contracts import CORRELATION_HEADER, Namespace
from portal_contracts.member import MemberEvent
from pydantic import TypeAdapter, ValidationError

from notifier.adapters.jetstream import CONSUMED_TYPES
from notifier.application.intake import take_in
from notifier.application.ports import DeliveryRepository
from notifier.observability import metrics

log = structlog.get_logger("notifier.consumer")
_EVENTS: TypeAdapter[MemberEvent] = TypeAdapter(MemberEvent)
SERVICE = "notifier"
_CONSUMED_TOKENS = frozenset(t.replace(".", "_") for t in CONSUMED_TYPES)


def _poison_reason(data: bytes) -> str:
    try:
        body = json.loads(data)
    except ValueError:
        return "unparseable"
    if isinstance(body, dict) and body.get("schema_version", 1) != 1:
        return "unknown_version"
    return "invalid"


class MemberEventConsumer:
    def __init__(
        self,
        js: JetStreamContext,
        ns: Namespace,
        repo: DeliveryRepository,
        durable: str,
        clock: Callable[[], datetime],
        message_id_domain: str,
        on_recorded: Callable[[], None],
        max_age: timedelta,
        batch: int = 100,
    ):
        self.js = js
        self.ns = ns
        self.repo = repo
        self.durable = durable
        self.clock = clock
        self.message_id_domain = message_id_domain
        self.on_recorded = on_recorded
        self.max_age = max_age
        self.batch = batch
        self.stopping = False
        self.waiting_for_messages = False

    def stop_soon(self) -> bool:
        """Takes no further batch; True when it is idle in a fetch (safe to cancel at once)."""
        self.stopping = True
        return self.waiting_for_messages

    async def run(self) -> None:
        sub = await self.js.pull_subscribe_bind(durable=self.durable, stream=self.ns.config_stream)
        try:
            while not self.stopping:
                try:
                    self.waiting_for_messages = True
                    msgs = await sub.fetch(self.batch, timeout=1.0)
                except TimeoutError:
                    # nats-py raises its own TimeoutError or a bare asyncio one: both are
                    # "nothing to fetch yet".
                    continue
                except Exception as exc:
                    # Never let the intake die silently: every email after it would be lost
                    # from sight until a restart.
                    log.warning("fetch_failed", error=repr(exc))
                    await asyncio.sleep(0.5)
                    continue
                finally:
                    self.waiting_for_messages = False
                for msg in msgs:
                    try:
                        await self.handle(msg)
                    except Exception as exc:
                        log.error("member_event_handling_failed", error=repr(exc))
        finally:
            with contextlib.suppress(nats.errors.Error):
                await sub.unsubscribe()

    async def handle(self, msg: Msg) -> None:
        """Never raises for a bad message; an ack lost with the connection means a redelivery,
        which records nothing new."""
        if msg.subject.rsplit(".", 1)[-1] not in _CONSUMED_TOKENS:
            # A server older than NATS 2.10 ignores `filter_subjects` and delivers the whole
            # stream: portal events and other member events are not ours, and not poison.
            await msg.ack()
            return
        correlation_id = (msg.headers or {}).get(CORRELATION_HEADER)
        with structlog.contextvars.bound_contextvars(correlation_id=correlation_id):
            try:
                event = _EVENTS.validate_json(msg.data)
            except ValidationError as exc:
                await self.park(msg, _poison_reason(msg.data), str(exc))
                return
            with structlog.contextvars.bound_contextvars(
                account_id=event.account_id,
                event_id=event.event_id,
                correlation_id=correlation_id or event.correlation_id,
            ):
                try:
                    result = await take_in(
                        event, self.repo, self.clock(), self.message_id_domain, self.max_age
                    )
                except Exception as exc:
                    log.error("event_intake_failed", type=event.type, error=repr(exc))
                    metrics.EVENTS.labels(event.type, "retry").inc()
                    await msg.nak(delay=1.0)
                    return
                await msg.ack()
                outcome = result.outcome
                metrics.EVENTS.labels(event.type, outcome).inc()
                log.info("member_event_taken_in", type=event.type, outcome=outcome)
                if result.recorded:
                    self.on_recorded()

    async def park(self, msg: Msg, reason: str, error: str) -> None:
        headers = {
            "Original-Subject": msg.subject,
            "Error": error[:500].replace("\r", " ").replace("\n", " "),
        }
        try:
            await self.js.publish(self.ns.dlq_subject(SERVICE, reason), msg.data, headers=headers)
        except nats.errors.Error as exc:
            log.error("dead_letter_publish_failed", reason=reason, error=str(exc))
            await msg.nak(delay=1.0)
            return
        await msg.ack()
        metrics.DEAD_LETTERS.labels(reason).inc()
        log.warning("message_parked", reason=reason, subject=msg.subject, error=error[:500])
