"""Cross-service customer journeys: real portal-config, ticket-view and notifier (PostgreSQL +
NATS + the SMTP sink) behind the real gateway. Customers talk to the gateway like a browser:
`Host` is the portal's domain, the session cookie is kept per portal and sent back only on
its path, and the CSRF token from login/activate goes into `X-CSRF-Token`."""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from devstack.mailsink import MailSink
from devstack.testing import eventually
from gateway.bootstrap import Running as GatewayRunning

KEY_A = "admin-key-acme-customer-0123"
KEY_B = "admin-key-globex-customer-0123"
PASSWORD = "correct horse battery staple"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
LINK = re.compile(
    r"(https?://[^\s\"'<>]+?/(activate|password-reset/confirm)\?token=([^\s\"'<>&]+))"
)
WAIT = 10.0


class Crm:
    """CRM events with increasing `occurred_at` (before any customer action)."""

    def __init__(self) -> None:
        self._tick = itertools.count(1)

    def event(self, type_: str, **data: Any) -> dict[str, Any]:
        return {
            "event_id": f"e{uuid.uuid4().hex[:16]}",
            "type": type_,
            "occurred_at": (T0 + timedelta(seconds=next(self._tick))).isoformat(),
            "data": data,
        }

    def contact(self, cid: str, email: str | None = None, **extra: Any) -> dict[str, Any]:
        data = {"contact_id": cid, "email": email or f"{cid}@example.com"} | extra
        return self.event("contact.upserted", **data)

    def ticket(self, tid: str, **extra: Any) -> dict[str, Any]:
        at = T0.isoformat()
        data = {
            "ticket_id": tid,
            "subject": f"Subject {tid}",
            "pipeline": "support",
            "stage": "new",
            "status": "open",
            "created_at": at,
            "updated_at": at,
        } | extra
        return self.event("ticket.upserted", **data)

    def link(self, tid: str, cid: str) -> dict[str, Any]:
        return self.event("ticket.contact_associated", ticket_id=tid, contact_id=cid)

    def message(self, tid: str, mid: str, body: str, public: bool = True) -> dict[str, Any]:
        return self.event(
            "ticket.message_added",
            ticket_id=tid,
            message_id=mid,
            author={"type": "agent", "name": "Agent"},
            body=body,
            public=public,
            created_at=T0.isoformat(),
        )


@dataclass
class Admin:
    http: httpx.AsyncClient
    crm: Crm = field(default_factory=Crm)

    async def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = await self.http.request(method, path, json=body)
        assert response.status_code == status, (method, path, response.text)
        return response.json() if response.content else None

    async def ingest(self, *events: dict[str, Any]) -> None:
        await self.ok("POST", "/api/v1/crm/events", {"events": list(events)}, 202)

    async def portal(
        self,
        domain: str,
        slug: str = "help",
        access: dict[str, Any] | None = None,
        visibility: str = "own",
        **settings: Any,
    ) -> str:
        """An active portal; `access` defaults to open mode without delay."""
        domains = await self.ok("GET", "/api/v1/domains")
        if domain not in {d["domain"] for d in domains["items"]}:
            body = {"domain": domain, "primary_language": "en"}
            await self.ok("POST", "/api/v1/domains", body, 201)
        inbox = await self.ok("POST", "/api/v1/inboxes", {"name": "Support", "kind": "inbox"}, 201)
        pid = str((await self.ok("POST", "/api/v1/portals", {"title": "Help"}, 201))["id"])
        base = f"/api/v1/portals/{pid}"
        await self.ok("PUT", f"{base}/domain", {"domain": domain, "slug": slug})
        tickets = {"default_inbox_id": inbox["id"], "visibility": {"mode": visibility}}
        await self.ok("PUT", f"{base}/tickets", tickets)
        access = access or {"mode": "open", "registration_email_delay_seconds": 0}
        await self.ok("PUT", f"{base}/access", access)
        if settings:
            await self.ok("PATCH", base, settings)
        await self.ok("POST", f"{base}/activate")
        return pid

    async def invite(self, pid: str, contact_id: str) -> None:
        """portal-config learns contacts from the CRM stream: retried until it knows them."""

        async def invited() -> bool:
            response = await self.http.post(
                f"/api/v1/portals/{pid}/invitations", json={"contact_id": contact_id}
            )
            assert response.status_code in (202, 404), response.text
            return response.status_code == 202

        await eventually(invited, timeout=WAIT, interval=0.05)


@dataclass
class Customer:
    """A browser on one portal: keeps the cookie the gateway sets, sends it on its path."""

    http: httpx.AsyncClient
    host: str
    slug: str
    session: str | None = None
    cookie_path: str | None = None
    csrf: str | None = None
    last_set_cookie: str = ""

    def _headers(self, path: str, csrf: bool, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Host": self.host}
        if self.session and self.cookie_path and path.startswith(self.cookie_path):
            headers["Cookie"] = f"portal_session={self.session}"
        if csrf and self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        return headers | (extra or {})

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        csrf: bool = True,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        url = f"/{self.slug}/api/{path}"
        response = await self.http.request(
            method, url, json=body, params=params, headers=self._headers(url, csrf, headers)
        )
        self._absorb(response)
        return response

    def _absorb(self, response: httpx.Response) -> None:
        for header in response.headers.get_list("set-cookie"):
            if not header.startswith("portal_session="):
                continue
            self.last_set_cookie = header
            value = header.split(";", 1)[0].split("=", 1)[1].strip('"')
            path = re.search(r"Path=([^;]+)", header)
            expired = "Max-Age=0" in header or not value
            self.session = None if expired else value
            self.cookie_path = path.group(1) if path else "/"
        if response.status_code == 200 and response.headers.get("content-type", "").startswith(
            "application/json"
        ):
            body = response.json()
            if isinstance(body, dict) and "csrf_token" in body:
                self.csrf = body["csrf_token"]

    async def login(self, email: str, password: str = PASSWORD) -> httpx.Response:
        return await self.call("POST", "login", {"email": email, "password": password})

    async def tickets(self, **params: Any) -> list[dict[str, Any]]:
        response = await self.call("GET", "tickets", params=params or None)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items


@dataclass
class Stack:
    gateway: GatewayRunning
    a: Admin
    b: Admin
    mail: MailSink
    anonymous: httpx.AsyncClient
    skew: list[timedelta] = field(default_factory=lambda: [timedelta(0)])

    password = PASSWORD

    def advance(self, **delta: float) -> None:
        """Moves portal-config's clock forward (token and session expiry); the gateway's
        seconds-long memory of live sessions is long past by then."""
        self.skew[0] += timedelta(**delta)
        self.gateway.app.state.session_cache.clear()

    @staticmethod
    def token_of(link: str) -> str:
        return token_of(link)

    def customer(self, host: str, slug: str = "help") -> Customer:
        return Customer(self.anonymous, host, slug)

    async def link_to(self, address: str, kind: str = "activate", count: int = 1) -> str:
        """The link of the `count`-th email of this kind sent to `address` (waits for it)."""
        found: list[str] = []

        def check() -> bool:
            found[:] = [link for to, link in self.links() if to == address and f"/{kind}?" in link]
            return len(found) >= count

        await eventually(check, timeout=WAIT, interval=0.05)
        return found[count - 1]

    async def registration_link(self, host: str, email: str, slug: str = "help") -> str:
        """Open mode: registers `email` until its activation email arrives (portal-config
        learns CRM contacts from the stream); → the newest link sent to it."""
        visitor = self.customer(host, slug)

        async def emailed() -> bool:
            response = await visitor.call("POST", "register", {"email": email})
            assert response.status_code == 202, response.text
            return await _has_link(self, email)

        await eventually(emailed, timeout=WAIT, interval=0.05)
        return [link for to, link in self.links() if to == email][-1]

    async def member(self, host: str, email: str, slug: str = "help") -> Customer:
        """A member registered in open mode, activated with `PASSWORD` and logged in."""
        link = await self.registration_link(host, email, slug)
        customer = self.customer(host, slug)
        body = {"token": token_of(link), "password": PASSWORD}
        response = await customer.call("POST", "activate", body)
        assert response.status_code == 200, response.text
        return customer

    def links(self) -> list[tuple[str, str]]:
        result = []
        for message in self.mail.messages():
            text = _text(message)
            match = LINK.search(text)
            if match:
                result.append(
                    (str(message["To"]).split("<")[-1].rstrip(">").strip(), match.group(1))
                )
        return result


async def _has_link(stack: Stack, email: str) -> bool:
    try:
        await eventually(lambda: any(to == email for to, _ in stack.links()), timeout=2.0)
    except AssertionError:
        return False
    return True


def token_of(link: str) -> str:
    match = LINK.search(link)
    assert match, link
    return match.group(3)


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    return str(body.get_content()) if body is not None else ""


@pytest.fixture
async def stack(
    mail_sink: MailSink, run_services: Callable[..., AbstractAsyncContextManager[Any]]
) -> AsyncIterator[Stack]:
    skew = [timedelta(0)]
    async with run_services(
        portal_config={"outbox_poll_interval": 0.05, "log_level": "WARNING"},
        config_overrides={"clock": lambda: datetime.now(UTC) + skew[0]},
        ticket_view={"log_level": "WARNING"},
        notifier={
            "smtp_url": mail_sink.url,
            "retry_base_seconds": 0.1,
            "retry_max_seconds": 0.3,
            "poll_interval_seconds": 0.05,
            "rpc_timeout_seconds": 1.0,
            "smtp_timeout_seconds": 2.0,
            "sending_lease_seconds": 10.0,
            "stop_grace_seconds": 0.5,
            "log_level": "WARNING",
        },
        gateway={"portal_cache_seconds": 0.2, "log_level": "WARNING"},
        accounts={"acme": KEY_A, "globex": KEY_B},
    ) as services:

        def client(key: str | None) -> httpx.AsyncClient:
            return services.client(key, timeout=15)

        async with client(KEY_A) as a, client(KEY_B) as b, client(None) as anonymous:
            yield Stack(services.gateway, Admin(a), Admin(b), mail_sink, anonymous, skew)
