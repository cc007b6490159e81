"""Composition root: schema, NATS, streams, projectors, request/reply, metrics."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import nats
import structlog
from nats.aio.client import Client
from portal_contracts import Namespace
from prometheus_client import start_http_server
from psycopg_pool import AsyncConnectionPool

from .adapters import db
from .adapters.jetstream import NatsDeadLetters, ensure_streams
from .adapters.read_model import PgReadModel
from .adapters.schema import create_schema
from .application.projection import CONFIG, CRM, plan_config, plan_crm
from .entrypoints.projector import AfterCommit, ProjectionSpec, Projector
from .entrypoints.rpc import RpcServer
from .observability import Metrics, configure_logging
from .settings import Settings

log = structlog.get_logger("ticket_view")
GC_THRESHOLDS = (100_000, 20, 10)


@dataclass
class Running:
    nc: Client
    pool: AsyncConnectionPool | None
    metrics: Metrics
    projectors: dict[str, Projector] = field(default_factory=dict)
    rpc: RpcServer | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def stop(self) -> None:
        if self.rpc is not None:
            await self.rpc.stop()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await self.nc.drain()
        if self.pool is not None:
            await self.pool.close()
        log.info("ticket_view_stopped")


def projection_specs(ns: Namespace) -> list[ProjectionSpec]:
    return [
        ProjectionSpec(CRM, ns.crm_stream, plan_crm),
        ProjectionSpec(CONFIG, ns.config_stream, plan_config),
    ]


async def prepare(settings: Settings) -> tuple[Namespace, Client]:
    """Schema and streams, idempotently; the NATS connection."""
    ns = Namespace(settings.namespace)
    conn = await db.connect(settings.database_url, autocommit=True)
    try:
        await create_schema(conn)
    finally:
        await conn.close()
    nc = await nats.connect(settings.nats_url, name="ticket-view", max_reconnect_attempts=-1)
    await ensure_streams(nc.jetstream(), ns)
    return ns, nc


def start_projectors(
    running: Running,
    ns: Namespace,
    settings: Settings,
    after_commit: AfterCommit | None = None,
    only: Collection[str] | None = None,
) -> None:
    """`only`: these projections (the rebuild replays CRM itself, in parts).

    Also makes the process's garbage collector lazier: a projector keeps thousands of
    messages in flight and allocates several objects per event, so with the default
    thresholds full collections over the live heap cost ~15% of the projection's CPU."""
    gc.set_threshold(*GC_THRESHOLDS)
    js = running.nc.jetstream()
    for spec in projection_specs(ns):
        if only is not None and spec.name not in only:
            continue
        projector = Projector(
            spec,
            running.nc,
            settings.database_url,
            NatsDeadLetters(js, ns, spec.stream),
            running.metrics,
            batch_size=settings.batch_size,
            after_commit=after_commit,
        )
        running.projectors[spec.name] = projector
        running.tasks.append(asyncio.create_task(projector.run(), name=f"project-{spec.name}"))


async def start(settings: Settings, **overrides: Any) -> Running:
    """Overrides: `metrics` (Metrics), `after_commit` (async hook between commit and ack)."""
    configure_logging(settings.log_level)
    ns, nc = await prepare(settings)
    metrics: Metrics = overrides.get("metrics") or Metrics()
    pool = None
    if settings.rpc_enabled:
        pool = await db.open_pool(settings.database_url, max_size=settings.pool_size)
    running = Running(nc=nc, pool=pool, metrics=metrics)
    if settings.projector_enabled:
        start_projectors(running, ns, settings, overrides.get("after_commit"))
    if pool is not None:
        running.rpc = RpcServer(
            nc,
            ns,
            PgReadModel(pool),
            metrics,
            settings.max_concurrent_requests,
            settings.shed_after_seconds,
        )
        await running.rpc.start()
    if settings.metrics_port:
        start_http_server(settings.metrics_port, registry=metrics.registry)
    log.info("ticket_view_started", namespace=ns.name)
    return running
