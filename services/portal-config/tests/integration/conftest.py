"""Fixtures for portal-config integration tests: a fresh database, the running service, and
an RPC helper speaking the contract over real NATS."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import nats
import pytest
from devstack.testing import eventually
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


class FakeClock:
    """An injectable clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class World:
    """A running service with a fake clock, an RPC helper, a CRM publisher and readers of the
    member events on the JetStream CONFIG stream."""

    def __init__(self, running: Running, nc: NatsClient, ns: Namespace, clock: FakeClock):
        self.running, self.nc, self.ns, self.clock = running, nc, ns, clock
        self.js = nc.jetstream()
        self._seq = 0

    async def call(self, op: str, **body: Any) -> dict[str, Any]:
        payload = json.dumps({"op": op, **body}).encode()
        msg = await self.nc.request(self.ns.rpc("portal-config", op), payload, timeout=10)
        reply: dict[str, Any] = json.loads(msg.data)
        return reply

    async def ok(self, op: str, **body: Any) -> Any:
        reply = await self.call(op, **body)
        assert reply["ok"], (op, reply)
        return reply["result"]

    async def error(self, op: str, **body: Any) -> dict[str, Any]:
        reply = await self.call(op, **body)
        assert not reply["ok"], (op, reply)
        error: dict[str, Any] = reply["error"]
        return error

    async def portal(
        self,
        access: dict[str, Any],
        *,
        name: str = "acme",
        domain: str = "help.acme.com",
        system: bool = False,
        slug: str = "help",
        activate: bool = True,
    ) -> dict[str, str]:
        aid = (await self.ok("account.ensure", name=name))["account"]["id"]
        domains = [d["domain"] for d in (await self.ok("domain.list", account_id=aid))["items"]]
        if domain not in domains:
            await self.ok(
                "domain.add", account_id=aid, domain=domain, primary_language="en", system=system
            )
        inbox = await self.ok("inbox.create", account_id=aid, name="Desk", kind="inbox")
        pid = (await self.ok("portal.create", account_id=aid, title="Help"))["id"]
        key = {"account_id": aid, "portal_id": pid}
        await self.ok("portal.set_domain", **key, domain=domain, slug=slug)
        await self.ok(
            "portal.configure_tickets",
            **key,
            default_inbox_id=inbox["id"],
            visibility={"mode": "own"},
        )
        await self.ok("portal.configure_access", **key, access=access)
        if activate:
            await self.ok("portal.activate", **key)
        return key

    async def crm(self, account_id: str, event_type: str, data: dict[str, Any]) -> str:
        """Publishes one CRM event as the gateway would; returns its event id."""
        self._seq += 1
        event_id = f"crm-{self._seq}-{uuid.uuid4().hex[:6]}"
        record = {
            "account_id": account_id,
            "event": {
                "event_id": event_id,
                "type": event_type,
                "occurred_at": (self.clock.now + timedelta(microseconds=self._seq)).isoformat(),
                "data": data,
            },
        }
        await self.js.publish(
            self.ns.crm_subject(account_id, event_type),
            json.dumps(record).encode(),
            headers={"Nats-Msg-Id": event_id},
        )
        return event_id

    async def contact(self, account_id: str, contact_id: str, email: str, **props: Any) -> None:
        """Upserts a contact through the CRM stream and waits until portal-config has it."""
        event_id = await self.crm(
            account_id,
            "contact.upserted",
            {"contact_id": contact_id, "email": email, "firstname": "Ann", "properties": props},
        )
        await self.applied(event_id)

    async def delete_contact(self, account_id: str, contact_id: str) -> None:
        await self.applied(
            await self.crm(account_id, "contact.deleted", {"contact_id": contact_id})
        )

    async def applied(self, event_id: str) -> None:
        async def check() -> bool:
            async with self.running.pool.connection() as conn:
                cur = await conn.execute(
                    "SELECT 1 FROM contacts WHERE event_id = %s AND NOT needs_evaluation",
                    (event_id,),
                )
                return await cur.fetchone() is not None

        await eventually(check, timeout=10)

    async def raw_stream(self) -> list[bytes]:
        """Every payload of the CONFIG stream (after the relay has caught up)."""

        async def relayed() -> bool:
            await self.running.relay.relay_once()
            async with self.running.pool.connection() as conn:
                cur = await conn.execute("SELECT 1 FROM outbox WHERE published_at IS NULL")
                return await cur.fetchone() is None

        await eventually(relayed, timeout=10)
        info = await self.js.stream_info(self.ns.config_stream)
        payloads = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await self.js.get_msg(self.ns.config_stream, seq)
            payloads.append(msg.data or b"")
        return payloads

    async def member_events(self, contact_id: str | None = None) -> list[dict[str, Any]]:
        events = [json.loads(p) for p in await self.raw_stream()]
        return [
            e
            for e in events
            if e["type"].startswith("member.")
            and (contact_id is None or e["data"]["contact_id"] == contact_id)
        ]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def world(
    nats_url: str, pc_db: str, namespace: Namespace, nc: NatsClient, clock: FakeClock
) -> AsyncIterator[World]:
    settings = Settings(
        nats_url=nats_url,
        database_url=pc_db,
        namespace=namespace,
        login_failures_per_address=8,
        outbox_poll_interval=0.1,
    )
    running = await start(settings, clock=clock)
    yield World(running, nc, namespace, clock)
    await running.stop()
