"""Composition root: `await start(settings, **overrides)` wires and starts the notifier."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import nats
import structlog
from nats.aio.client import Client as NatsClient
from nats.aio.subscription import Subscription
from portal_contracts import Namespace
from prometheus_client import start_http_server
from sqlalchemy.ext.asyncio import AsyncEngine

from notifier.adapters.db import SqlDeliveryRepository, create_schema, make_engine
from notifier.adapters.directory import NatsDirectory
from notifier.adapters.jetstream import ensure_consumer, ensure_stream
from notifier.adapters.rendering import JinjaRenderer
from notifier.adapters.smtp import SmtpMailer, parse_smtp_url
from notifier.application.ports import Directory, Mailer, SendHooks
from notifier.application.sending import RetryPolicy, Sender
from notifier.entrypoints.consumer import MemberEventConsumer
from notifier.entrypoints.gauges import refresh_gauges
from notifier.entrypoints.rpc import serve_ping
from notifier.entrypoints.sender_loop import SenderLoop
from notifier.observability.logging import configure_logging
from notifier.settings import Settings

log = structlog.get_logger("notifier")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Running:
    settings: Settings
    nc: NatsClient
    engine: AsyncEngine
    repo: SqlDeliveryRepository
    sender_loop: SenderLoop
    consumer: MemberEventConsumer
    stopping: asyncio.Event
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)

    async def stop(self) -> None:
        """Takes in no more events, lets the attempts in flight finish for up to
        `stop_grace_seconds`, then cancels: a delivery still caught in `sending` stays there
        until its lease expires, exactly as after a crash."""
        self.stopping.set()
        self.sender_loop.finish_current_batch()
        if self.consumer.stop_soon():
            next(t for t in self.tasks if t.get_name() == "notifier-consumer").cancel()
        _, late = await asyncio.wait(self.tasks, timeout=self.settings.stop_grace_seconds)
        for task in late:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for sub in self.subscriptions:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        with contextlib.suppress(Exception):
            await self.nc.close()
        await self.engine.dispose()
        log.info("notifier_stopped")


async def start(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    hooks: SendHooks | None = None,
    mailer: Mailer | None = None,
    directory: Directory | None = None,
) -> Running:
    configure_logging(settings.log_level)
    ns = Namespace(settings.namespace)
    engine = make_engine(settings.database_url)
    await create_schema(engine)
    repo = SqlDeliveryRepository(engine)
    nc = await nats.connect(settings.nats_url, name="notifier", max_reconnect_attempts=-1)
    js = nc.jetstream()
    await ensure_stream(js, ns.config_stream, ns.config_subjects)
    await ensure_stream(js, ns.dlq_stream, ns.dlq_subjects)
    await ensure_consumer(js, ns, settings.consumer_name, settings.ack_wait_seconds)

    sender = Sender(
        repo=repo,
        directory=directory or NatsDirectory(nc, ns, settings.rpc_timeout_seconds),
        renderer=JinjaRenderer(),
        mailer=mailer
        or SmtpMailer(parse_smtp_url(settings.smtp_url), settings.smtp_timeout_seconds),
        mail_from=settings.mail_from,
        policy=RetryPolicy(
            base_seconds=settings.retry_base_seconds,
            max_seconds=settings.retry_max_seconds,
            max_attempts=settings.max_attempts,
            lease_seconds=settings.sending_lease_seconds,
        ),
        clock=clock,
        hooks=hooks or SendHooks(),
    )
    loop = SenderLoop(sender, settings.batch_size, settings.poll_interval_seconds)
    consumer = MemberEventConsumer(
        js,
        ns,
        repo,
        durable=settings.consumer_name,
        clock=clock,
        message_id_domain=settings.message_id_domain,
        on_recorded=loop.notify,
        max_age=timedelta(seconds=settings.stale_after_seconds),
    )
    stopping = asyncio.Event()
    running = Running(
        settings=settings,
        nc=nc,
        engine=engine,
        repo=repo,
        sender_loop=loop,
        consumer=consumer,
        stopping=stopping,
    )
    running.subscriptions.append(await serve_ping(nc, ns, repo))
    running.tasks.append(asyncio.create_task(consumer.run(), name="notifier-consumer"))
    running.tasks.append(asyncio.create_task(loop.run(), name="notifier-sender"))
    running.tasks.append(
        asyncio.create_task(
            refresh_gauges(
                repo, js, ns, settings.consumer_name, settings.gauge_interval_seconds, stopping
            ),
            name="notifier-gauges",
        )
    )
    if settings.metrics_port:
        start_http_server(settings.metrics_port)
    log.info("notifier_started", namespace=ns.name, consumer=settings.consumer_name)
    return running
