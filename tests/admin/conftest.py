"""Cross-service admin API fixtures: real portal-config (PostgreSQL + NATS) behind the real
gateway on a free port; two accounts with their own admin keys."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from gateway.bootstrap import Running as GatewayRunning

KEY_A = "admin-key-acme-0123456789"
KEY_B = "admin-key-globex-0123456789"


@dataclass
class Stack:
    gateway: GatewayRunning
    portal_config: Any
    a: httpx.AsyncClient
    b: httpx.AsyncClient
    anonymous: httpx.AsyncClient


@pytest.fixture
async def stack(
    run_services: Callable[..., AbstractAsyncContextManager[Any]],
) -> AsyncIterator[Stack]:
    async with run_services(
        gateway={"required_services": ["portal-config"], "max_body_bytes": 64 * 1024},
        accounts={"acme": KEY_A, "globex": KEY_B},
    ) as services:
        client = services.client
        async with client(KEY_A) as a, client(KEY_B) as b, client(None) as anonymous:
            yield Stack(services.gateway, services.portal_config, a, b, anonymous)
