"""Refreshes the backlog and consumer-lag gauges every few seconds."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from nats.js import JetStreamContext
from portal_contracts import Namespace

from notifier.adapters.db import SqlDeliveryRepository
from notifier.domain.delivery import DUE_STATES
from notifier.observability import metrics

log = structlog.get_logger("notifier.gauges")


async def refresh_gauges(
    repo: SqlDeliveryRepository,
    js: JetStreamContext,
    ns: Namespace,
    durable: str,
    every: float,
    stopping: asyncio.Event,
) -> None:
    while not stopping.is_set():
        try:
            counts = await repo.count_open()
            for state in DUE_STATES:
                metrics.OPEN.labels(state.value).set(counts.get(state.value, 0))
            info = await js.consumer_info(ns.config_stream, durable)
            metrics.CONSUMER_PENDING.set(info.num_pending or 0)
        except Exception as exc:
            log.warning("gauge_refresh_failed", error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), every)
