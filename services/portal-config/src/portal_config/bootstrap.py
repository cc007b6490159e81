"""Composition root: `start(settings, **overrides) -> Running`; nothing connects at import.

Overrides (tests): `clock`, `new_id`, `relay_fault` (see `OutboxRelay`), `start_relay=False`.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import nats
import structlog
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from portal_contracts import Namespace
from portal_contracts.config_rpc import EnsureAccount
from prometheus_client import start_http_server
from psycopg_pool import AsyncConnectionPool

from .adapters.accounts import PgAccountStore
from .adapters.db import create_schema, open_pool
from .adapters.event_store import EventStore
from .adapters.jetstream import ensure_streams
from .adapters.outbox import OutboxRelay
from .adapters.portals import PgPortalStore
from .application.accounts import AccountService
from .application.portals import PortalService
from .entrypoints.rpc import RpcServer
from .settings import Settings

log = structlog.get_logger("portal_config")


@dataclass
class Running:
    settings: Settings
    namespace: Namespace
    pool: AsyncConnectionPool
    nc: NatsClient
    js: JetStreamContext
    relay: OutboxRelay
    rpc: RpcServer
    accounts: AccountService
    portals: PortalService
    event_store: EventStore
    _closers: list[Any] = field(default_factory=list)

    async def stop(self) -> None:
        await self.rpc.stop()
        await self.relay.stop()
        with contextlib.suppress(Exception):
            await self.nc.drain()
        await self.pool.close()
        for close in self._closers:
            with contextlib.suppress(Exception):
                close()
        log.info("portal_config_stopped")


async def database_reachable(pool: AsyncConnectionPool) -> bool:
    try:
        async with asyncio.timeout(2), pool.connection() as conn:
            await conn.execute("SELECT 1")
        return True
    except Exception:
        return False


async def start(settings: Settings, **overrides: Any) -> Running:
    namespace = Namespace(settings.namespace)
    pool = await open_pool(settings.database_url, settings.db_pool_size)
    try:
        await create_schema(pool)
        nc = await nats.connect(settings.nats_url, name="portal-config", max_reconnect_attempts=-1)
    except BaseException:
        await pool.close()
        raise
    js = nc.jetstream()
    await ensure_streams(js, namespace)
    relay = OutboxRelay(
        pool,
        js,
        database_url=settings.database_url,
        poll_interval=settings.outbox_poll_interval,
        fault=overrides.get("relay_fault"),
    )
    account_store = PgAccountStore(pool)
    accounts = AccountService(account_store)
    portals = PortalService(
        PgPortalStore(pool, namespace),
        account_store,
        clock=overrides.get("clock", lambda: datetime.now(UTC)),
        new_id=overrides.get("new_id", lambda: uuid.uuid4().hex),
        on_append=relay.wake,
    )
    if settings.bootstrap_admin_key:
        await accounts.ensure(EnsureAccount(name="default", api_key=settings.bootstrap_admin_key))
    server = RpcServer(nc, namespace, accounts, portals, lambda: database_reachable(pool))
    await server.start()
    if overrides.get("start_relay", True):
        relay.start()
    running = Running(
        settings, namespace, pool, nc, js, relay, server, accounts, portals, EventStore(pool)
    )
    if settings.metrics_port:
        httpd, _thread = start_http_server(settings.metrics_port)
        running._closers.append(httpd.shutdown)
    log.info("portal_config_started", namespace=namespace.name)
    return running
