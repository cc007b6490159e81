"""Browser end-to-end fixtures: the real services (portal-config, ticket-view, notifier with
the SMTP sink) behind the real gateway on a free port, driven by Debian's Chromium through
Playwright for Python.

Chromium is `/usr/bin/chromium` (`.ci/run` installs it). Only when it is absent are these
tests skipped, loudly; Playwright's own browser download is never used.

Portals live on `localhost:<port>` (English) and `127.0.0.1:<port>` (Portuguese): plain-http
development hosts, so the gateway's cookies are not `Secure` and email links are `http://`,
as for `make run`. `--host-resolver-rules` keeps every other name away from the network.
Set `SCREENSHOTS_DIR` to save a screenshot of each page at desktop and phone width.
"""

from __future__ import annotations

import itertools
import os
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from devstack.mailsink import MailSink
from devstack.testing import eventually
from gateway.bootstrap import Running as GatewayRunning

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
KEY = "admin-key-browser-0123456789"
PASSWORD = "quiet lantern orbit 42"
LINK = re.compile(r"(https?://[^\s\"'<>]+?/(activate|password-reset/confirm)\?token=[^\s\"'<>]+)")
WAIT = 30.0
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    reason = (
        f"BROWSER TESTS SKIPPED: {CHROMIUM} is missing. Install Debian's chromium "
        "(apt-get install -y chromium) to run them; CI (.ci/run) always installs it."
    )
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_report_header(config: pytest.Config) -> str | None:
    if CHROMIUM.exists():
        return None
    return f"WARNING: {CHROMIUM} is missing: browser tests (tests/browser) will be SKIPPED"


class Crm:
    """CRM events with increasing `occurred_at`."""

    def __init__(self) -> None:
        self._tick = itertools.count(1)

    def event(self, type_: str, **data: Any) -> dict[str, Any]:
        return {
            "event_id": f"e{uuid.uuid4().hex[:16]}",
            "type": type_,
            "occurred_at": (T0 + timedelta(seconds=next(self._tick))).isoformat(),
            "data": data,
        }

    def contact(self, cid: str, email: str, **extra: Any) -> dict[str, Any]:
        return self.event("contact.upserted", contact_id=cid, email=email, **extra)

    def company(self, co: str, name: str) -> dict[str, Any]:
        return self.event("company.upserted", company_id=co, name=name)

    def ticket(self, tid: str, subject: str, hours_ago: float = 1, **extra: Any) -> dict[str, Any]:
        at = (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat()
        data = {
            "ticket_id": tid,
            "subject": subject,
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

    def message(
        self, tid: str, body: str, agent: bool = True, name: str = "Sam", hours_ago: float = 1
    ) -> dict[str, Any]:
        at = (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat()
        return self.event(
            "ticket.message_added",
            ticket_id=tid,
            message_id=f"m{uuid.uuid4().hex[:12]}",
            author={"type": "agent" if agent else "contact", "name": name},
            body=body,
            public=True,
            created_at=at,
        )


@dataclass
class Stack:
    gateway: GatewayRunning
    admin: httpx.AsyncClient
    mail: MailSink
    crm: Crm = field(default_factory=Crm)

    @property
    def port(self) -> int:
        return self.gateway.port

    async def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = await self.admin.request(method, path, json=body)
        assert response.status_code == status, (method, path, response.text)
        return response.json() if response.content else None

    async def ingest(self, *events: dict[str, Any]) -> None:
        await self.ok("POST", "/api/v1/crm/events", {"events": list(events)}, 202)

    async def portal(self, host: str, language: str, slug: str, title: str, **settings: Any) -> str:
        """An active portal in open mode, company visibility, on `host:<gateway port>`."""
        domain = f"{host}:{self.port}"
        await self.ok(
            "POST", "/api/v1/domains", {"domain": domain, "primary_language": language}, 201
        )
        inbox = await self.ok(
            "POST", "/api/v1/inboxes", {"name": "Support", "kind": "help_desk"}, 201
        )
        pid = str((await self.ok("POST", "/api/v1/portals", {"title": title}, 201))["id"])
        base = f"/api/v1/portals/{pid}"
        await self.ok("PUT", f"{base}/domain", {"domain": domain, "slug": slug})
        tickets = {"default_inbox_id": inbox["id"], "visibility": {"mode": "company"}}
        await self.ok("PUT", f"{base}/tickets", tickets)
        access = {"mode": "open", "registration_email_delay_seconds": 0}
        await self.ok("PUT", f"{base}/access", access)
        if settings:
            await self.ok("PATCH", base, settings)
        await self.ok("POST", f"{base}/activate")
        return pid

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    async def invite(self, pid: str, contact_id: str) -> None:
        """Retried until portal-config has learnt the contact from the CRM stream."""

        async def invited() -> bool:
            response = await self.admin.post(
                f"/api/v1/portals/{pid}/invitations", json={"contact_id": contact_id}
            )
            assert response.status_code in (202, 404), response.text
            return response.status_code == 202

        await eventually(invited, timeout=WAIT, interval=0.1)

    async def link_to(self, address: str, kind: str = "activate", count: int = 1) -> str:
        """The link of the `count`-th email of this kind sent to `address` (waits for it)."""
        found: list[str] = []

        def check() -> bool:
            found[:] = [link for to, link in self.links() if to == address and f"/{kind}?" in link]
            return len(found) >= count

        try:
            await eventually(check, timeout=WAIT, interval=0.1)
        except AssertionError as exc:
            raise AssertionError(f"no {kind} link to {address}; emails: {self.links()}") from exc
        return found[count - 1]

    def links(self) -> list[tuple[str, str]]:
        result = []
        for message in self.mail.messages():
            match = LINK.search(_text(message))
            if match:
                to = str(message["To"]).split("<")[-1].rstrip(">").strip()
                result.append((to, match.group(1)))
        return result


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    return str(body.get_content()) if body is not None else ""


@pytest.fixture
async def stack(
    mail_sink: MailSink, run_services: Callable[..., AbstractAsyncContextManager[Any]]
) -> AsyncIterator[Stack]:
    async with (
        run_services(
            portal_config={"outbox_poll_interval": 0.05, "log_level": "WARNING"},
            ticket_view={"log_level": "WARNING"},
            notifier={
                "smtp_url": mail_sink.url,
                "retry_base_seconds": 0.1,
                "retry_max_seconds": 0.3,
                "poll_interval_seconds": 0.05,
                "rpc_timeout_seconds": 1.0,
                "smtp_timeout_seconds": 2.0,
                "stop_grace_seconds": 0.5,
                "log_level": os.environ.get("BROWSER_NOTIFIER_LOG", "WARNING"),
            },
            gateway={
                "host": "127.0.0.1",
                "portal_cache_seconds": 0.2,
                "log_level": os.environ.get("BROWSER_GATEWAY_LOG", "WARNING"),
            },
            accounts={"acme": KEY},
        ) as services,
        services.client(KEY, timeout=15) as admin,
    ):
        yield Stack(services.gateway, admin, mail_sink)


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        await browser.close()


@pytest.fixture
async def browser_context(chromium: Any) -> AsyncIterator[Callable[..., Any]]:
    """`await new_context(**options)` → a fresh context (own cookies), closed afterwards."""
    contexts: list[Any] = []

    async def new_context(**options: Any) -> Any:
        context = await chromium.new_context(
            viewport=options.pop("viewport", DESKTOP), locale="en-US", **options
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield new_context
    for context in contexts:
        await context.close()


class Shots:
    """Screenshots of the pages for README.md, only when `SCREENSHOTS_DIR` is set."""

    def __init__(self) -> None:
        value = os.environ.get("SCREENSHOTS_DIR")
        self.directory = Path(value) if value else None

    async def take(self, page: Any, name: str) -> None:
        if self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        size = page.viewport_size
        for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            await page.set_viewport_size(viewport)
            await page.screenshot(path=str(self.directory / f"{name}-{label}.png"), full_page=True)
        await page.set_viewport_size(size)


@pytest.fixture
def shots() -> Shots:
    return Shots()
