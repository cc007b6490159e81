"""Composition root: settings → broker, RPC client, key cache, metrics → FastAPI app.

`create_app` connects nothing; the app's lifespan starts and stops the NATS broker.
`start` serves the app with uvicorn in the current event loop (tests, devstack);
`serve_forever` is `python -m gateway`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
import uuid
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
import uvicorn
from fastapi import FastAPI
from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from portal_contracts import Namespace
from portal_contracts.member_rpc import SessionsEnded
from prometheus_client import start_http_server
from pydantic import ValidationError

from .adapters.crm_stream import CrmPublisher
from .adapters.rpc import RpcClient
from .application.customer_portals import PortalCache
from .application.customer_tickets import CustomerDesk
from .application.key_cache import KeyCache
from .application.known_portals import KnownPortals
from .application.session_cache import SessionCache
from .entrypoints.http.app import build_app
from .entrypoints.http.crm_ingest import PATH as CRM_PATH
from .observability import Metrics, configure_logging
from .settings import Settings

log = structlog.get_logger("gateway")


def create_app(settings: Settings, **overrides: Any) -> FastAPI:
    """Overrides: `broker` (a NatsBroker), `clock` (monotonic seconds, for the key and portal
    caches), `wall_clock` (aware UTC datetime of customer writes)."""
    metrics = Metrics()
    broker: NatsBroker = overrides.get("broker") or NatsBroker(
        settings.nats_url,
        name="gateway",
        max_reconnect_attempts=-1,
        logger=logging.getLogger("gateway.broker"),
    )
    namespace = Namespace(settings.namespace)
    rpc = RpcClient(broker, namespace, settings.rpc_timeout_seconds, metrics)
    crm = CrmPublisher(
        broker, namespace, settings.crm_max_in_flight, settings.crm_ack_timeout_seconds
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        connecting = asyncio.create_task(_connect(broker, crm, namespace, app.state.session_cache))
        await asyncio.wait({connecting}, timeout=settings.startup_connect_seconds)
        metrics_server = None
        if settings.metrics_port is not None:
            metrics_server, _thread = start_http_server(
                settings.metrics_port, registry=metrics.registry
            )
        try:
            yield
        finally:
            if metrics_server is not None:
                metrics_server.shutdown()
            connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await connecting
            await broker.stop()

    def limit_for(path: str) -> int:
        return settings.crm_max_body_bytes if path == CRM_PATH else settings.max_body_bytes

    app = build_app(lifespan, limit_for, metrics)
    app.state.settings = settings
    app.state.broker = broker
    app.state.rpc = rpc
    app.state.crm_publisher = crm
    app.state.known_portals = KnownPortals()
    app.state.metrics = metrics
    app.state.key_cache = KeyCache(
        settings.auth_cache_seconds, overrides.get("clock", time.monotonic)
    )
    app.state.session_cache = SessionCache[Any](
        settings.session_cache_seconds,
        overrides.get("clock", time.monotonic),
        link=lambda: _link_state(broker),
    )
    app.state.portal_cache = PortalCache(
        settings.portal_cache_seconds, overrides.get("clock", time.monotonic)
    )
    app.state.customer_desk = CustomerDesk(
        publish=crm.publish,
        clock=overrides.get("wall_clock", lambda: datetime.now(UTC)),
        new_id=lambda: uuid.uuid4().hex,
        wait_seconds=settings.read_your_writes_seconds,
        observe_wait=lambda kind, seconds, seen: metrics.read_your_writes.labels(
            kind, str(seen).lower()
        ).observe(seconds),
    )
    return app


async def _connect(
    broker: NatsBroker, crm: CrmPublisher, namespace: Namespace, sessions: SessionCache[Any]
) -> None:
    """Keeps trying in the background: the gateway serves `/healthz` (and 503s) meanwhile.
    Once connected, ended sessions are listened for and the CRM stream is ensured (ingest
    retries it if this fails)."""
    log.info("nats_connecting")
    await broker.start()
    log.info("nats_connected")

    async def on_sessions_ended(msg: Msg) -> None:
        try:
            notice = SessionsEnded.model_validate_json(msg.data)
        except ValidationError:
            sessions.clear()
            log.warning("sessions_ended_notice_invalid")
            return
        sessions.forget(notice.portal_id, notice.contact_id)

    await broker.connection.subscribe(namespace.sessions_ended, cb=on_sessions_ended)
    try:
        await crm.ensure_stream()
    except Exception as exc:
        log.warning("crm_stream_not_ensured", error=type(exc).__name__)


def _link_state(broker: NatsBroker) -> int | None:
    """None while NATS is not connected, else its reconnect count (see `SessionCache`)."""
    try:
        nc = broker.connection
    except Exception:
        return None
    if nc is None or not nc.is_connected:
        return None
    return int(nc.stats["reconnects"])


class _EmbeddedServer(uvicorn.Server):
    """Leaves signal handling to the host process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _config(app: FastAPI, settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        lifespan="on",
    )


@dataclass
class Running:
    app: FastAPI
    server: uvicorn.Server
    task: asyncio.Task[None]

    @property
    def port(self) -> int:
        sockets = self.server.servers[0].sockets
        return int(sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{self.server.config.host}:{self.port}"

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task


async def start(settings: Settings, **overrides: Any) -> Running:
    """Serves in the background; `settings.port = 0` picks a free port (see `Running.url`)."""
    app = create_app(settings, **overrides)
    server = _EmbeddedServer(_config(app, settings))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("gateway stopped during start-up")
        await asyncio.sleep(0.01)
    return Running(app, server, task)


async def serve_forever(settings: Settings) -> None:
    """Until SIGINT/SIGTERM; then drains requests, stops the broker and returns (exit 0)."""
    configure_logging(settings.log_level)
    server = _EmbeddedServer(_config(create_app(settings), settings))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, server.handle_exit, sig, None)
    await server.serve()
