"""Demo data for `make run`: accounts (over NATS request/reply), a demo portal (through the
gateway's admin HTTP API) and CRM records (through the CRM ingest endpoint).

Everything here is idempotent: a restart finds what the previous run created and creates
nothing twice. The demo admin key is generated once and kept in `var/demo-admin-key`; each
start attaches it to the `demo` account again (attaching a known key is a no-op).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nats
from portal_contracts import CORRELATION_HEADER, Namespace
from portal_contracts.config_rpc import SERVICE, EnsureAccount
from portal_contracts.rpc import RpcReply

from .demo_data import DEMO_SLUG, crm_events, demo_domain

DEMO_ACCOUNT = "demo"
DEFAULT_ACCOUNT = "default"


class DemoError(RuntimeError):
    pass


def demo_key(path: Path) -> str:
    """The stored demo admin key, generated (and stored, mode 0600) on first use."""
    if path.exists() and (stored := path.read_text().strip()):
        return stored
    key = "demo_" + secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


async def ensure_account(
    nats_url: str, namespace: Namespace, name: str, api_key: str | None, timeout: float = 10.0
) -> dict[str, Any]:
    """Asks portal-config to create account `name` if missing and attach `api_key`.
    → `{account: {id, name}, api_key}`."""
    request = EnsureAccount(name=name, api_key=api_key)
    nc = await nats.connect(nats_url, connect_timeout=5, max_reconnect_attempts=0)
    try:
        msg = await nc.request(
            namespace.rpc(SERVICE, request.op),
            request.model_dump_json().encode(),
            timeout=timeout,
            headers={CORRELATION_HEADER: f"devstack-{uuid.uuid4().hex[:12]}"},
        )
    except Exception as exc:
        problem = f"account.ensure for {name!r}: no reply from portal-config ({exc})"
        raise DemoError(problem) from exc
    finally:
        await nc.close()
    reply = RpcReply.model_validate_json(msg.data)
    if not reply.ok:
        raise DemoError(f"account.ensure for {name!r} refused: {reply.error}")
    result: dict[str, Any] = reply.result
    return result


@dataclass
class DemoReport:
    portal_url: str | None = None
    notes: list[str] = field(default_factory=list)


class _Admin:
    def __init__(self, client: httpx.AsyncClient):
        self.client = client

    async def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return await self.client.request(method, path, json=body)

    async def expect(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = ()):
        response = await self.call(method, path, body)
        if response.status_code not in (ok or (200, 201, 202, 204)):
            raise DemoError(f"{method} {path} → {response.status_code} {response.text[:300]}")
        return response.json() if response.content else None


async def _ensure_inbox(admin: _Admin) -> str:
    listing = await admin.expect("GET", "/api/v1/inboxes")
    for inbox in listing.get("items", []):
        if inbox.get("name") == "Support":
            return str(inbox["id"])
    body = {"name": "Support", "kind": "help_desk"}
    created = await admin.expect("POST", "/api/v1/inboxes", body)
    return str(created["id"])


async def _ensure_portal(admin: _Admin, inbox_id: str, domain: str) -> dict[str, Any]:
    listing = await admin.expect("GET", "/api/v1/portals")
    portal = next(
        (p for p in listing.get("items", []) if p.get("slug") == DEMO_SLUG),
        None,
    ) or await admin.expect("POST", "/api/v1/portals", {"title": "Acme Support"})
    base = f"/api/v1/portals/{portal['id']}"
    if portal.get("domain") != domain:
        portal = await admin.expect("PUT", f"{base}/domain", {"domain": domain, "slug": DEMO_SLUG})
    if portal.get("status") == "active":
        return portal
    if not portal.get("default_inbox_id"):
        tickets = {"default_inbox_id": inbox_id, "visibility": {"mode": "company"}}
        portal = await admin.expect("PUT", f"{base}/tickets", tickets)
    if not portal.get("access"):
        portal = await admin.expect("PUT", f"{base}/access", {"mode": "open"})
    if not portal.get("ticket_display", {}).get("allow_close"):
        display = {
            "allow_close": True,
            "properties": ["priority"],
            "status_labels": {
                "new": "Received",
                "waiting_on_us": "In progress",
                "closed": "Solved",
            },
        }
        portal = await admin.expect("PATCH", base, {"ticket_display": display})
    return dict(await admin.expect("POST", f"{base}/activate"))


async def _send_crm(admin: _Admin, inbox_id: str) -> str:
    response = await admin.call("POST", "/api/v1/crm/events", {"events": crm_events(inbox_id)})
    if response.status_code in (404, 405):
        return "demo CRM data: skipped, POST /api/v1/crm/events is not available yet"
    if response.status_code != 202:
        raise DemoError(f"POST /api/v1/crm/events → {response.status_code} {response.text[:300]}")
    counts = response.json()
    return (
        f"demo CRM data: {counts.get('accepted')} accepted, "
        f"{counts.get('duplicates')} already known"
    )


async def create_demo_portal(gateway_url: str, api_key: str, port: int) -> DemoReport:
    """Connected domain `localhost:<port>` (en), inbox `Support`, portal `Acme Support` at slug
    `demo` (company visibility, open registration), activated; then the demo CRM records.
    A step the gateway does not offer yet is reported, not fatal."""
    report = DemoReport()
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=gateway_url, headers=headers, timeout=15) as client:
        admin = _Admin(client)
        domain = demo_domain(port)
        try:
            await admin.expect(
                "POST",
                "/api/v1/domains",
                {"domain": domain, "primary_language": "en"},
                ok=(201, 409),
            )
            inbox_id = await _ensure_inbox(admin)
            portal = await _ensure_portal(admin, inbox_id, domain)
            report.portal_url = portal.get("url") or f"http://{domain}/{DEMO_SLUG}/"
            report.notes.append(f"demo portal: {portal.get('title')} ({portal.get('status')})")
        except (DemoError, httpx.HTTPError, KeyError, ValueError) as exc:
            report.notes.append(f"demo portal: not created: {exc}")
            return report
        try:
            report.notes.append(await _send_crm(admin, inbox_id))
        except (DemoError, httpx.HTTPError, ValueError) as exc:
            report.notes.append(f"demo CRM data: not sent: {exc}")
    return report
