"""Fixtures the cross-service test folders share: the real services started in-process with
per-folder settings overrides, and admin accounts ensured over NATS.

`run_services(...)` starts portal-config, then ticket-view and notifier when asked for, then the
gateway on a free port; ensures the given accounts (name → admin key) through portal-config's
`account.ensure` RPC; and stops everything in reverse order when the block ends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import nats
import notifier.bootstrap
import notifier.settings
import portal_config.bootstrap
import portal_config.settings
import pytest
import ticket_view.bootstrap
import ticket_view.settings
from gateway.bootstrap import Running as GatewayRunning
from gateway.bootstrap import start as start_gateway
from gateway.settings import Settings as GatewaySettings
from portal_contracts import Namespace
from portal_contracts.config_rpc import SERVICE, EnsureAccount
from portal_contracts.rpc import RpcReply

EnsureAccountFn = Callable[[str, str], Any]


@dataclass
class Services:
    """The running service set; `client(key)` talks to the gateway as that admin key."""

    gateway: GatewayRunning
    portal_config: Any

    def client(self, key: str | None, timeout: float = 10) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.AsyncClient(base_url=self.gateway.url, headers=headers, timeout=timeout)


RunServices = Callable[..., AbstractAsyncContextManager[Services]]


@pytest.fixture
def ensure_account(nats_url: str, namespace: Namespace) -> EnsureAccountFn:
    """`await ensure_account(name, key)`: the account exists with this admin key."""

    async def ensure(name: str, key: str) -> None:
        nc = await nats.connect(nats_url)
        try:
            msg = await nc.request(
                namespace.rpc(SERVICE, "account.ensure"),
                EnsureAccount(name=name, api_key=key).model_dump_json().encode(),
                timeout=5,
            )
            assert RpcReply.model_validate_json(msg.data).ok, msg.data
        finally:
            await nc.close()

    return ensure


@pytest.fixture
def run_services(
    nats_url: str,
    namespace: Namespace,
    make_database: Callable[[str], str],
    ensure_account: EnsureAccountFn,
) -> RunServices:
    """`async with run_services(portal_config={...}, gateway={...}, ticket_view={...},
    notifier={...}, accounts={name: key}, config_overrides={...}) as services`: each dict holds
    that service's Settings fields besides `nats_url`, `database_url` and `namespace`;
    ticket-view and notifier start only when given; `config_overrides` go to
    `portal_config.bootstrap.start`."""

    def base(label: str) -> dict[str, Any]:
        return {
            "nats_url": nats_url,
            "database_url": make_database(label),
            "namespace": namespace.name,
        }

    @asynccontextmanager
    async def run(
        *,
        portal_config: dict[str, Any] | None = None,
        gateway: dict[str, Any] | None = None,
        ticket_view: dict[str, Any] | None = None,
        notifier: dict[str, Any] | None = None,
        accounts: dict[str, str] | None = None,
        config_overrides: dict[str, Any] | None = None,
    ) -> AsyncIterator[Services]:
        config = await _start_portal_config(base("pc") | (portal_config or {}), config_overrides)
        view = None
        if ticket_view is not None:
            view = await _start_ticket_view(base("tv") | ticket_view)
        mailer = None
        if notifier is not None:
            mailer = await _start_notifier(base("nt") | notifier)
        running_gateway = await start_gateway(
            GatewaySettings(nats_url=nats_url, namespace=namespace.name, port=0, **(gateway or {}))
        )
        for name, key in (accounts or {}).items():
            await ensure_account(name, key)
        yield Services(running_gateway, config)
        await running_gateway.stop()
        if mailer is not None:
            await mailer.stop()
        if view is not None:
            await view.stop()
        await config.stop()

    return run


async def _start_portal_config(fields: dict[str, Any], overrides: dict[str, Any] | None) -> Any:
    settings = portal_config.settings.Settings(**fields)
    return await portal_config.bootstrap.start(settings, **(overrides or {}))


async def _start_ticket_view(fields: dict[str, Any]) -> Any:
    return await ticket_view.bootstrap.start(ticket_view.settings.Settings(**fields))


async def _start_notifier(fields: dict[str, Any]) -> Any:
    return await notifier.bootstrap.start(notifier.settings.Settings(**fields))
