"""Fixtures of ticket-view's tests: a running service on fresh streams and database, CRM and
portal event builders, a publisher and an RPC client."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import nats
import psycopg
import pytest
from portal_contracts import Namespace
from ticket_view.bootstrap import Running, start
from ticket_view.settings import Settings

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Events:
    """Builds CRM events (API.md CrmEvent) with increasing `occurred_at` unless given."""

    def __init__(self) -> None:
        self._clock = itertools.count(1)
        self._created = itertools.count(1)

    def _event(self, type_: str, data: dict[str, Any], at: int | None = None) -> dict[str, Any]:
        tick = next(self._clock) if at is None else at
        return {
            "event_id": f"e{uuid.uuid4().hex[:16]}",
            "type": type_,
            "occurred_at": (T0 + timedelta(seconds=tick)).isoformat(),
            "data": data,
        }

    def contact(self, cid: str, company: str | None = None, at: int | None = None, **kw: Any):
        data = {"contact_id": cid, "email": kw.pop("email", f"{cid}@example.com")}
        if company:
            data["primary_company_id"] = company
        data.update(kw)
        return self._event("contact.upserted", data, at)

    def contact_deleted(self, cid: str, at: int | None = None):
        return self._event("contact.deleted", {"contact_id": cid}, at)

    def company(self, co: str, at: int | None = None, **kw: Any):
        return self._event("company.upserted", {"company_id": co, "name": f"Co {co}", **kw}, at)

    def company_deleted(self, co: str, at: int | None = None):
        return self._event("company.deleted", {"company_id": co}, at)

    def ticket(self, tid: str, at: int | None = None, **kw: Any):
        data = {
            "ticket_id": tid,
            "subject": f"Subject {tid}",
            "pipeline": "support",
            "stage": "new",
            "status": "open",
            "created_at": (T0 + timedelta(minutes=next(self._created))).isoformat(),
        }
        data.update(kw)
        return self._event("ticket.upserted", data, at)

    def ticket_deleted(self, tid: str, at: int | None = None):
        return self._event("ticket.deleted", {"ticket_id": tid}, at)

    def link_contact(self, tid: str, cid: str, at: int | None = None, on: bool = True):
        kind = "ticket.contact_associated" if on else "ticket.contact_dissociated"
        return self._event(kind, {"ticket_id": tid, "contact_id": cid}, at)

    def link_company(self, tid: str, co: str, at: int | None = None, on: bool = True):
        kind = "ticket.company_associated" if on else "ticket.company_dissociated"
        return self._event(kind, {"ticket_id": tid, "company_id": co}, at)

    def message(self, tid: str, mid: str, body: str, public: bool = True, at: int | None = None):
        data = {
            "ticket_id": tid,
            "message_id": mid,
            "author": {"type": "agent", "name": "Agent"},
            "body": body,
            "public": public,
            "created_at": (T0 + timedelta(hours=1, seconds=next(self._clock))).isoformat(),
        }
        return self._event("ticket.message_added", data, at)


class PortalEvents:
    """Builds portal configuration events with increasing aggregate versions."""

    def __init__(self, account_id: str, portal_id: str) -> None:
        self.account_id = account_id
        self.portal_id = portal_id
        self._version = itertools.count(1)

    def _event(self, type_: str, data: dict[str, Any], version: int | None = None):
        return {
            "event_id": f"p{uuid.uuid4().hex[:16]}",
            "type": type_,
            "occurred_at": datetime.now(UTC).isoformat(),
            "account_id": self.account_id,
            "portal_id": self.portal_id,
            "version": next(self._version) if version is None else version,
            "data": data,
        }

    def created(self, title: str = "Help"):
        return self._event("portal.created", {"title": title})

    def visibility(self, mode: str, filters: list[list[dict[str, Any]]] | None = None):
        visibility: dict[str, Any] = {"mode": mode}
        if filters:
            visibility["contact_filters"] = filters
        return self._event(
            "portal.tickets_configured", {"default_inbox_id": "inbox1", "visibility": visibility}
        )

    def display(self, **display: Any):
        return self._event("portal.settings_changed", {"ticket_display": display})

    def activated(self):
        return self._event("portal.activated", {})


class Harness:
    def __init__(self, running: Running, nc: Any, ns: Namespace, settings: Settings):
        self.running = running
        self.nc = nc
        self.js = nc.jetstream()
        self.ns = ns
        self.settings = settings

    async def publish_crm(self, account_id: str, events: list[dict[str, Any]]) -> int:
        seq = 0
        for event in events:
            body = json.dumps({"account_id": account_id, "event": event}).encode()
            subject = self.ns.crm_subject(account_id, event["type"])
            ack = await self.js.publish(subject, body, headers={"Nats-Msg-Id": event["event_id"]})
            seq = ack.seq
        return seq

    async def publish_raw(self, subject: str, body: bytes) -> int:
        return (await self.js.publish(subject, body)).seq

    async def publish_portal(self, events: list[dict[str, Any]]) -> int:
        seq = 0
        for event in events:
            subject = self.ns.config_subject(event["account_id"], event["type"])
            seq = (await self.js.publish(subject, json.dumps(event).encode())).seq
        return seq

    async def synced(self, timeout: float = 20.0) -> None:
        """Until both projections have applied everything published so far."""
        for name, stream in (("crm", self.ns.crm_stream), ("config", self.ns.config_stream)):
            last = (await self.js.stream_info(stream)).state.last_seq
            await self.running.projectors[name].wait_for(last, timeout)

    async def rpc(self, op: str, **body: Any) -> dict[str, Any]:
        reply = await self.nc.request(
            self.ns.rpc("ticket-view", op), json.dumps(body).encode(), timeout=10
        )
        return json.loads(reply.data)

    async def ok(self, op: str, **body: Any) -> Any:
        reply = await self.rpc(op, **body)
        assert reply["ok"], reply
        return reply["result"]

    async def visible(self, account_id: str, portal_id: str, contact_id: str) -> set[str]:
        result = await self.ok(
            "tickets.list",
            account_id=account_id,
            portal_id=portal_id,
            contact_id=contact_id,
            limit=100,
        )
        return {item["id"] for item in result["items"]}


def dump_tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    from ticket_view.adapters.db import libpq_url
    from ticket_view.adapters.schema import TABLES

    out = {}
    with psycopg.connect(libpq_url(url)) as conn:
        for table in TABLES:
            rows = conn.execute(f"SELECT * FROM {table}").fetchall()
            out[table] = sorted(rows, key=repr)
    return out


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def portal_events() -> Callable[[str, str], PortalEvents]:
    return PortalEvents


@pytest.fixture
def tv_settings(nats_url: str, make_database: Callable[[str], str], namespace: Namespace):
    return Settings(
        nats_url=nats_url,
        database_url=make_database("tv"),
        namespace=namespace.name,
        log_level="WARNING",
        pool_size=4,
    )


@pytest.fixture
async def tv(tv_settings: Settings, namespace: Namespace) -> AsyncIterator[Harness]:
    running = await start(tv_settings)
    nc = await nats.connect(tv_settings.nats_url)
    try:
        yield Harness(running, nc, namespace, tv_settings)
    finally:
        await nc.close()
        await running.stop()


@pytest.fixture
def harness_for() -> type[Harness]:
    return Harness


@pytest.fixture
def dump() -> Callable[[str], dict[str, list[tuple[Any, ...]]]]:
    return dump_tables
