"""Real NATS, PostgreSQL and SMTP sink for the notifier, and small real-NATS responders that
answer portal-config's `portal.get` / `member.issue_token` and ticket-view's `contacts.get`
per the contracts: they stand in for those services in these tests."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from notifier.bootstrap import Running, start
from notifier.settings import Settings
from portal_contracts import Namespace
from portal_contracts.base import dump
from portal_contracts.config_rpc import GetPortal
from portal_contracts.member import IssueMemberToken
from portal_contracts.rpc import RpcError, RpcReply
from portal_contracts.ticket_view_rpc import GetContact

ACCOUNT = "acct1"
PORTAL = "portal1"


@dataclass
class World:
    """What portal-config and ticket-view would answer."""

    portals: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    contacts: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    refused: set[tuple[str, str, str]] = field(default_factory=set)
    tokens: list[dict[str, Any]] = field(default_factory=list)

    def portal(self, title: str = "Acme Help", language: str | None = "en", **kw: Any) -> None:
        self.portals[(ACCOUNT, PORTAL)] = {
            "id": PORTAL,
            "title": title,
            "status": "active",
            "url": kw.get("url", "https://help.acme.test/support/"),
            "language": language,
        }

    def contact(self, contact_id: str, email: str, name: str | None = None) -> None:
        self.contacts[(ACCOUNT, contact_id)] = {
            "contact_id": contact_id,
            "email": email,
            "name": name,
        }


async def _respond(msg: Msg, reply: RpcReply) -> None:
    await msg.respond(dump(reply))


async def serve_world(nc: Client, ns: Namespace, world: World) -> None:
    async def portal_get(msg: Msg) -> None:
        req = GetPortal.model_validate_json(msg.data)
        found = world.portals.get((req.account_id, req.portal_id))
        await _respond(
            msg,
            RpcReply.success(found)
            if found
            else RpcReply.failure(RpcError.of("not_found", "no such portal")),
        )

    async def issue_token(msg: Msg) -> None:
        req = IssueMemberToken.model_validate_json(msg.data)
        if (req.account_id, req.portal_id, req.contact_id) in world.refused:
            await _respond(msg, RpcReply.failure(RpcError.of("conflict", "invitation cancelled")))
            return
        token = {
            "token": f"tok-{uuid.uuid4().hex}",
            "expires_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        }
        world.tokens.append({**token, "request": req.model_dump()})
        await _respond(msg, RpcReply.success(token))

    async def contacts_get(msg: Msg) -> None:
        req = GetContact.model_validate_json(msg.data)
        found = world.contacts.get((req.account_id, req.contact_id))
        await _respond(
            msg,
            RpcReply.success(found)
            if found
            else RpcReply.failure(RpcError.of("not_found", "no such contact")),
        )

    await nc.subscribe(ns.rpc("portal-config", "portal.get"), cb=portal_get)
    await nc.subscribe(ns.rpc("portal-config", "member.issue_token"), cb=issue_token)
    await nc.subscribe(ns.rpc("ticket-view", "contacts.get"), cb=contacts_get)


def member_event(
    type_: str, contact_id: str, version: int = 1, send_after: datetime | None = None, **data: Any
) -> dict[str, Any]:
    now = datetime.now(UTC)
    body: dict[str, Any] = {"contact_id": contact_id, **data}
    if type_ == "member.invited":
        body.setdefault("reason", "access_group")
        body["send_after"] = (send_after or now).isoformat()
    return {
        "event_id": uuid.uuid4().hex,
        "schema_version": 1,
        "occurred_at": now.isoformat(),
        "account_id": ACCOUNT,
        "portal_id": PORTAL,
        "version": version,
        "correlation_id": f"corr-{uuid.uuid4().hex[:8]}",
        "type": type_,
        "data": body,
    }


@dataclass
class Harness:
    nats_url: str
    database_url: str
    ns: Namespace
    smtp_url: str
    nc: Client
    world: World
    running: list[Running] = field(default_factory=list)
    account: str = ACCOUNT
    portal_id: str = PORTAL

    event = staticmethod(member_event)

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "nats_url": self.nats_url,
            "database_url": self.database_url,
            "namespace": self.ns.name,
            "smtp_url": self.smtp_url,
            "mail_from": "Acme Help <help@acme.test>",
            "retry_base_seconds": 0.1,
            "retry_max_seconds": 0.3,
            "max_attempts": 50,
            "sending_lease_seconds": 1.5,
            "poll_interval_seconds": 0.05,
            "rpc_timeout_seconds": 0.3,
            "smtp_timeout_seconds": 0.5,
            "log_level": "WARNING",
            "stop_grace_seconds": 0.5,
        }
        values.update(overrides)
        return Settings(**values)

    async def start(self, hooks: Any = None, **overrides: Any) -> Running:
        running = await start(self.settings(**overrides), hooks=hooks)
        self.running.append(running)
        return running

    async def stop(self, running: Running) -> None:
        await running.stop()
        self.running.remove(running)

    async def publish(self, event: dict[str, Any], msg_id: str | None = None) -> None:
        js = self.nc.jetstream()
        subject = self.ns.config_subject(event["account_id"], event["type"])
        await js.publish(
            subject,
            json.dumps(event).encode(),
            headers={"Nats-Msg-Id": msg_id or event["event_id"]},
        )


@pytest.fixture
async def harness(
    nats_url: str, make_database: Any, namespace: Namespace, tmp_path: Any
) -> AsyncIterator[Harness]:
    nc = await nats.connect(nats_url)
    world = World()
    world.portal()
    await serve_world(nc, namespace, world)
    h = Harness(
        nats_url=nats_url,
        database_url=make_database("notifier"),
        ns=namespace,
        smtp_url="smtp://127.0.0.1:1",
        nc=nc,
        world=world,
    )
    yield h
    for running in list(h.running):
        await running.stop()
    await nc.close()
