"""Cross-service ticket visibility: real portal-config and ticket-view (PostgreSQL + NATS)
behind the real gateway; two accounts with their own admin keys; CRM data goes in through
`POST /api/v1/crm/events` only, and is read back through the admin preview."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from devstack.testing import eventually
from portal_contracts import Namespace

KEY_A = "admin-key-acme-0123456789"
KEY_B = "admin-key-globex-0123456789"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
FRESH = 5.0
"""Seconds a change may take to show (the target is far below; this only bounds a failure)."""


class Crm:
    """CRM events (API.md CrmEvent) with increasing `occurred_at`, so later ones win."""

    def __init__(self) -> None:
        self._tick = itertools.count(1)

    def event(self, type_: str, **data: Any) -> dict[str, Any]:
        return {
            "event_id": f"e{uuid.uuid4().hex[:16]}",
            "type": type_,
            "occurred_at": (T0 + timedelta(seconds=next(self._tick))).isoformat(),
            "data": data,
        }

    def contact(self, cid: str, company: str | None = None, **properties: Any) -> dict[str, Any]:
        data: dict[str, Any] = {"contact_id": cid, "email": f"{cid}@example.com"}
        if company:
            data["primary_company_id"] = company
        return self.event("contact.upserted", **data, properties=properties)

    def company(self, co: str) -> dict[str, Any]:
        return self.event("company.upserted", company_id=co, name=f"Company {co}")

    def ticket(self, tid: str, day: int = 1, **extra: Any) -> dict[str, Any]:
        at = (T0 + timedelta(days=day)).isoformat()
        data = {
            "ticket_id": tid,
            "subject": f"Subject {tid}",
            "pipeline": "support",
            "stage": "new",
            "status": "open",
            "created_at": at,
            "updated_at": at,
        }
        return self.event("ticket.upserted", **(data | extra))

    def link(self, tid: str, contact: str | None = None, company: str | None = None) -> dict:
        if contact:
            return self.event("ticket.contact_associated", ticket_id=tid, contact_id=contact)
        return self.event("ticket.company_associated", ticket_id=tid, company_id=company)

    def unlink(self, tid: str, contact: str | None = None, company: str | None = None) -> dict:
        if contact:
            return self.event("ticket.contact_dissociated", ticket_id=tid, contact_id=contact)
        return self.event("ticket.company_dissociated", ticket_id=tid, company_id=company)


@dataclass
class Admin:
    """One account's admin client, with the steps the tests repeat."""

    http: httpx.AsyncClient

    async def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = await self.http.request(method, path, json=body)
        assert response.status_code == status, (method, path, response.text)
        return response.json() if response.content else None

    async def ingest(self, *events: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self.ok(
            "POST", "/api/v1/crm/events", {"events": list(events)}, 202
        )
        return result

    async def portal(self, visibility: dict[str, Any], domain: str) -> str:
        """A complete, active portal with this ticket visibility."""
        await self.ok("POST", "/api/v1/domains", {"domain": domain, "primary_language": "en"}, 201)
        inbox = await self.ok("POST", "/api/v1/inboxes", {"name": "Support", "kind": "inbox"}, 201)
        portal = await self.ok("POST", "/api/v1/portals", {"title": "Help"}, 201)
        pid = str(portal["id"])
        base = f"/api/v1/portals/{pid}"
        await self.ok("PUT", f"{base}/domain", {"domain": domain, "slug": "help"})
        await self.set_visibility(pid, visibility, inbox["id"])
        await self.ok("PUT", f"{base}/access", {"mode": "open"})
        await self.ok("POST", f"{base}/activate")
        return pid

    async def set_visibility(
        self, pid: str, visibility: dict[str, Any], inbox_id: str | None = None
    ) -> None:
        if inbox_id is None:
            inbox_id = (await self.ok("GET", f"/api/v1/portals/{pid}"))["default_inbox_id"]
        body = {"default_inbox_id": inbox_id, "visibility": visibility}
        await self.ok("PUT", f"/api/v1/portals/{pid}/tickets", body)

    async def preview(self, pid: str, contact: str, **params: Any) -> httpx.Response:
        query = {"contact_id": contact, "limit": 100} | params
        return await self.http.get(f"/api/v1/portals/{pid}/preview", params=query)

    async def visible(self, pid: str, contact: str) -> dict[str, dict[str, Any]]:
        """ticket id → reason; {} while ticket-view does not know the portal yet."""
        response = await self.preview(pid, contact)
        if response.status_code == 404:
            return {}
        assert response.status_code == 200, response.text
        return {
            item["id"]: {k: v for k, v in item["reason"].items() if v is not None}
            for item in response.json()["items"]
        }

    async def sees(self, pid: str, contact: str, expected: dict[str, dict[str, Any]]) -> None:
        """Polls until the preview shows exactly `expected` (ticket id → reason)."""
        last: list[Any] = [None]

        async def check() -> bool:
            last[0] = await self.visible(pid, contact)
            return bool(last[0] == expected)

        try:
            await eventually(check, timeout=FRESH, interval=0.02)
        except AssertionError as exc:
            raise AssertionError(f"preview shows {last[0]}, expected {expected}") from exc


@dataclass
class Stack:
    a: Admin
    b: Admin
    anonymous: httpx.AsyncClient
    nats_url: str
    namespace: Namespace


@pytest.fixture
async def stack(
    nats_url: str,
    namespace: Namespace,
    run_services: Callable[..., AbstractAsyncContextManager[Any]],
) -> AsyncIterator[Stack]:
    async with run_services(
        portal_config={"outbox_poll_interval": 0.05},
        ticket_view={},
        gateway={"required_services": ["portal-config", "ticket-view"]},
        accounts={"acme": KEY_A, "globex": KEY_B},
    ) as services:
        client = services.client
        async with client(KEY_A) as a, client(KEY_B) as b, client(None) as anonymous:
            yield Stack(Admin(a), Admin(b), anonymous, nats_url, namespace)


@pytest.fixture
def crm() -> Crm:
    return Crm()
