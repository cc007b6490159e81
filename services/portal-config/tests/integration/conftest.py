"""Fixtures for portal-config integration tests: a fresh database, the running service, and
an RPC helper speaking the contract over real NATS."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import nats
import pytest
from nats.aio.client import Client as NatsClient
from portal_config.adapters.db import create_schema, open_pool
from portal_config.bootstrap import Running, start
from portal_config.settings import Settings
from portal_contracts import Namespace
from psycopg_pool import AsyncConnectionPool

Rpc = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def pc_db(make_database: Callable[[str], str]) -> Iterator[str]:
    yield make_database("portal_config")


@pytest.fixture
async def pc_pool(pc_db: str) -> AsyncIterator[AsyncConnectionPool]:
    pool = await open_pool(pc_db, max_size=25)
    await create_schema(pool)
    yield pool
    await pool.close()


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NatsClient]:
    client = await nats.connect(nats_url)
    yield client
    await client.close()


@pytest.fixture
async def service(nats_url: str, pc_db: str, namespace: Namespace) -> AsyncIterator[Running]:
    running = await start(Settings(nats_url=nats_url, database_url=pc_db, namespace=namespace))
    yield running
    await running.stop()


@pytest.fixture
def rpc(service: Running, nc: NatsClient, namespace: Namespace) -> Rpc:
    """`await rpc("portal.get", account_id=..., portal_id=...)` → the RpcReply as a dict."""

    async def call(op: str, **body: Any) -> dict[str, Any]:
        payload = json.dumps({"op": op, **body}).encode()
        msg = await nc.request(namespace.rpc("portal-config", op), payload, timeout=5)
        reply: dict[str, Any] = json.loads(msg.data)
        return reply

    return call
