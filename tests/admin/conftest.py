"""Cross-service admin API fixtures: real portal-config (PostgreSQL + NATS) behind the real
gateway on a free port; two accounts with their own admin keys."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import nats
import portal_config.bootstrap
import portal_config.settings
import pytest
from gateway.bootstrap import Running as GatewayRunning
from gateway.bootstrap import start as start_gateway
from gateway.settings import Settings as GatewaySettings
from portal_contracts import Namespace
from portal_contracts.config_rpc import SERVICE, EnsureAccount
from portal_contracts.rpc import RpcReply

KEY_A = "admin-key-acme-0123456789"
KEY_B = "admin-key-globex-0123456789"


@dataclass
class Stack:
    gateway: GatewayRunning
    portal_config: Any
    a: httpx.AsyncClient
    b: httpx.AsyncClient
    anonymous: httpx.AsyncClient


async def _ensure_account(nats_url: str, namespace: Namespace, name: str, key: str) -> None:
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


@pytest.fixture
async def stack(
    nats_url: str, namespace: Namespace, make_database: Callable[[str], str]
) -> AsyncIterator[Stack]:
    config = await portal_config.bootstrap.start(
        portal_config.settings.Settings(
            nats_url=nats_url, database_url=make_database("pc"), namespace=namespace.name
        )
    )
    gateway = await start_gateway(
        GatewaySettings(
            nats_url=nats_url,
            namespace=namespace.name,
            port=0,
            required_services=["portal-config"],
            max_body_bytes=64 * 1024,
        )
    )
    await _ensure_account(nats_url, namespace, "acme", KEY_A)
    await _ensure_account(nats_url, namespace, "globex", KEY_B)

    def client(key: str | None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.AsyncClient(base_url=gateway.url, headers=headers, timeout=10)

    async with client(KEY_A) as a, client(KEY_B) as b, client(None) as anonymous:
        yield Stack(gateway, config, a, b, anonymous)
    await gateway.stop()
    await config.stop()
