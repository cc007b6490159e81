"""JetStream set-up: the config stream, the DLQ stream and the notifier's durable consumer,
all created idempotently (another service may have created a stream first)."""

from __future__ import annotations

import nats.js.errors
import structlog
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType
from portal_contracts import Namespace

from notifier.domain.delivery import EMAIL_FOR_EVENT

log = structlog.get_logger("notifier.jetstream")

CONSUMED_TYPES = (*EMAIL_FOR_EVENT, "member.invitation_cancelled")
_STREAM_NAME_IN_USE = 10058
_CONSUMER_EXISTS = (10148, 10013)


async def ensure_stream(js: JetStreamContext, name: str, subjects: str) -> None:
    try:
        await js.stream_info(name)
        return
    except nats.js.errors.NotFoundError:
        pass
    try:
        await js.add_stream(name=name, subjects=[subjects], storage=StorageType.FILE)
    except nats.js.errors.BadRequestError as exc:
        if exc.err_code != _STREAM_NAME_IN_USE:
            raise


def member_filter_subjects(ns: Namespace) -> list[str]:
    """Member events that call for an email (or cancel one), of every account."""
    return [ns.config_subject("*", event_type) for event_type in CONSUMED_TYPES]


async def ensure_consumer(
    js: JetStreamContext, ns: Namespace, durable: str, ack_wait: float
) -> None:
    config = ConsumerConfig(
        durable_name=durable,
        filter_subjects=member_filter_subjects(ns),
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=ack_wait,
        max_deliver=-1,
        max_ack_pending=1000,
    )
    try:
        await js.add_consumer(ns.config_stream, config=config)
    except nats.js.errors.BadRequestError as exc:
        if exc.err_code not in _CONSUMER_EXISTS:
            raise
        log.warning("consumer_config_differs", durable=durable, error=str(exc))
