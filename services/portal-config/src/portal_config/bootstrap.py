"""Composition root: `start(settings, **overrides) -> Running`; nothing connects at import.

Overrides (tests): `clock`, `new_id`, `relay_fault` (see `OutboxRelay`), `start_relay=False`,
`start_crm_consumer=False`.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import nats
import structlog
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from portal_contracts import Namespace
from portal_contracts.config_rpc import EnsureAccount
from portal_contracts.member_rpc import SessionsEnded
from portal_contracts.portal import PortalEvent
from prometheus_client import start_http_server
from psycopg_pool import AsyncConnectionPool

from .adapters.accounts import PgAccountStore
from .adapters.auth import PgAuthStore
from .adapters.contacts import PgContactStore
from .adapters.db import create_schema, open_pool
from .adapters.event_store import EventStore
from .adapters.jetstream import ensure_streams
from .adapters.members import PgMemberStore
from .adapters.outbox import OutboxRelay
from .adapters.portals import PgPortalStore
from .application.access_groups import AccessGroups
from .application.accounts import AccountService
from .application.customer import CustomerAccess, Limits
from .application.members import MemberService, SessionsEndedHook
from .application.passwords import Hasher
from .application.portals import PortalService
from .entrypoints.crm_consumer import CrmConsumer
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
    members: MemberService
    access_groups: AccessGroups
    customer: CustomerAccess
    crm: CrmConsumer
    _closers: list[Any] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _housekeeping: asyncio.Task[None] | None = None

    async def stop(self) -> None:
        await self.rpc.stop()
        await self.crm.stop()
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with contextlib.suppress(BaseException):
                await self._housekeeping
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)
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


async def _evaluate_portal(access_groups: AccessGroups, account_id: str, portal_id: str) -> None:
    try:
        await access_groups.evaluate_portal(account_id, portal_id)
    except Exception:
        log.exception("portal_access_evaluation_failed", portal_id=portal_id)


async def _housekeeping(auth: PgAuthStore, clock: Any, interval: float) -> None:
    """Every `interval` seconds: expired sessions and tokens, day-old rate-limit events."""
    while True:
        await asyncio.sleep(interval)
        try:
            now = clock()
            await auth.housekeeping(now, now - timedelta(days=1))
        except Exception:
            log.warning("housekeeping_failed", exc_info=True)


def _sessions_ended_broadcast(nc: NatsClient, namespace: Namespace) -> SessionsEndedHook:
    """Tells every gateway to forget the member's sessions. At most once, like all core NATS:
    a gateway that misses it serves a remembered session for at most its cache's few
    seconds (and forgets everything when its connection drops)."""

    async def broadcast(account_id: str, portal_id: str, contact_id: str) -> None:
        notice = SessionsEnded(account_id=account_id, portal_id=portal_id, contact_id=contact_id)
        try:
            await nc.publish(namespace.sessions_ended, notice.model_dump_json().encode())
        except Exception as exc:
            log.warning("sessions_ended_not_broadcast", error=type(exc).__name__)

    return broadcast


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
    clock = overrides.get("clock", lambda: datetime.now(UTC))
    new_id = overrides.get("new_id", lambda: uuid.uuid4().hex)
    portal_store = PgPortalStore(pool, namespace)
    contacts = PgContactStore(pool)
    auth = PgAuthStore(pool)
    members = MemberService(
        PgMemberStore(pool, namespace),
        portal_store,
        contacts,
        auth,
        clock,
        new_id,
        relay.wake,
        on_sessions_ended=_sessions_ended_broadcast(nc, namespace),
    )
    access_groups = AccessGroups(members, portal_store, account_store, contacts, clock)
    tasks: set[asyncio.Task[None]] = set()

    def on_portal_events(events: list[PortalEvent]) -> None:
        """Activation or a new access configuration: evaluate the groups in the background."""
        if any(e.type in ("portal.activated", "portal.access_configured") for e in events):
            task = asyncio.create_task(
                _evaluate_portal(access_groups, events[-1].account_id, events[-1].portal_id)
            )
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    portals = PortalService(
        portal_store,
        account_store,
        clock=clock,
        new_id=new_id,
        on_append=relay.wake,
        on_events=on_portal_events,
    )
    limits = Limits(
        session_idle=timedelta(seconds=settings.session_idle_seconds),
        session_absolute=timedelta(seconds=settings.session_absolute_seconds),
        login_window=timedelta(seconds=settings.login_window_seconds),
        login_per_email=settings.login_failures_per_email,
        login_per_address=settings.login_failures_per_address,
    )
    hasher = Hasher(settings.argon2_memory_kib, settings.argon2_time_cost)
    customer = CustomerAccess(members, contacts, auth, hasher, clock, limits)
    if settings.bootstrap_admin_key:
        await accounts.ensure(EnsureAccount(name="default", api_key=settings.bootstrap_admin_key))
    server = RpcServer(
        nc, namespace, accounts, portals, lambda: database_reachable(pool), members, customer
    )
    crm = CrmConsumer(
        js, namespace, contacts, access_groups, pool, sweep_interval=settings.crm_sweep_interval
    )
    await server.start()
    if overrides.get("start_relay", True):
        relay.start()
    if overrides.get("start_crm_consumer", True):
        await crm.start()
    running = Running(
        settings,
        namespace,
        pool,
        nc,
        js,
        relay,
        server,
        accounts,
        portals,
        EventStore(pool),
        members,
        access_groups,
        customer,
        crm,
        _tasks=tasks,
        _housekeeping=asyncio.create_task(_housekeeping(auth, clock, 300.0)),
    )
    if settings.metrics_port:
        httpd, _thread = start_http_server(settings.metrics_port)
        running._closers.append(httpd.shutdown)
    log.info("portal_config_started", namespace=namespace.name)
    return running
