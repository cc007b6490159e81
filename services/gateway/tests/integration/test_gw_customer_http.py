"""Customer API against a scripted backend on real NATS: portal resolution, cookies, CSRF,
enumeration-safe answers, and the CRM events a new ticket becomes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import nats
import pytest
from devstack.testing import eventually
from gateway.bootstrap import start
from gateway.settings import Settings
from portal_contracts import Namespace
from portal_contracts.rpc import RpcError, RpcReply

HOST = "support.acme.test"
SESSION = "s" * 32
CSRF = "c" * 32
ISSUED = {
    "session_id": SESSION,
    "csrf_token": CSRF,
    "contact_id": "c1",
    "idle_expires_at": "2099-01-01T00:00:00Z",
    "absolute_expires_at": "2099-01-01T00:00:00Z",
}


def active_portal(make_portal: Any, **fields: Any) -> dict[str, Any]:
    base = {
        "status": "active",
        "domain": HOST,
        "slug": "help",
        "default_inbox_id": "inbox1",
        "setup": {"missing": []},
        "account_id": "acc1",
    }
    return dict(make_portal(**(base | fields)))


def resolve_for(portal: dict[str, Any]) -> Any:
    def reply(body: dict[str, Any]) -> RpcReply:
        if body["slug"] == portal["slug"] and body["host"] in (HOST, f"{HOST}:8443"):
            return RpcReply.success(portal)
        return RpcReply.failure(RpcError.of("not_found", "no such portal"))

    return reply


def session_resolve(body: dict[str, Any]) -> RpcReply:
    if body["session_id"] == SESSION and body["portal_id"] == "p1":
        return RpcReply.success({k: v for k, v in ISSUED.items() if k != "session_id"})
    return RpcReply.failure(RpcError.of("unauthorized", "no session"))


@pytest.fixture
async def customer(backend: Any, gateway_settings: Settings, make_portal: Any) -> Any:
    portal = active_portal(make_portal)
    backend.replies[("portal-config", "portal.resolve")] = resolve_for(portal)
    backend.replies[("portal-config", "session.resolve")] = session_resolve
    settings = gateway_settings.model_copy(
        update={"read_your_writes_seconds": 0.2, "trusted_proxies": ["127.0.0.1"]}
    )
    running = await start(settings)
    async with httpx.AsyncClient(base_url=running.url, headers={"Host": HOST}, timeout=5) as http:
        yield http
    await running.stop()


async def test_unknown_host_or_slug_is_404_in_the_error_shape(customer: Any) -> None:
    for host, path in (
        (HOST, "/other/api/me"),
        ("evil.test", "/help/api/me"),
        ("%%", "/help/api/me"),
    ):
        response = await customer.get(path, headers={"Host": host})
        assert response.status_code == 404, (host, path)
        assert response.json()["error"]["code"] == "not_found"


async def test_login_sets_a_strict_cookie_scoped_to_the_slug(customer: Any, backend: Any) -> None:
    backend.replies[("portal-config", "member.login")] = RpcReply.success(ISSUED)
    response = await customer.post(
        "/help/api/login",
        json={"email": "a@b.co", "password": "x" * 12},
        headers={"User-Agent": "probe/1", "X-Forwarded-For": "203.0.113.9"},
    )
    assert response.status_code == 200
    assert response.json() == {"csrf_token": CSRF}
    cookie = response.headers["set-cookie"]
    for attribute in (
        "portal_session=" + SESSION,
        "HttpOnly",
        "Path=/help/",
        "SameSite=lax",
        "Secure",
    ):
        assert attribute in cookie
    call = backend.ops("member.login")[0].body
    assert (call["client_address"], call["user_agent"], call["account_id"]) == (
        "203.0.113.9",
        "probe/1",
        "acc1",
    )


async def test_plain_http_to_localhost_drops_secure(
    backend: Any, gateway_settings: Settings, make_portal: Any
) -> None:
    portal = active_portal(make_portal, domain="localhost:8000")
    backend.replies[("portal-config", "portal.resolve")] = lambda body: RpcReply.success(portal)
    backend.replies[("portal-config", "member.login")] = RpcReply.success(ISSUED)
    running = await start(gateway_settings)
    try:
        async with httpx.AsyncClient(base_url=running.url, timeout=5) as http:
            response = await http.post(
                "/help/api/login",
                json={"email": "a@b.co", "password": "x" * 12},
                headers={"Host": "localhost:8000", "X-Forwarded-For": "203.0.113.9"},
            )
        assert response.status_code == 200
        assert "Secure" not in response.headers["set-cookie"]
        assert backend.ops("member.login")[0].body["client_address"] == "127.0.0.1"
    finally:
        await running.stop()


async def test_login_failures_share_one_answer_and_rate_limits_say_when(
    customer: Any, backend: Any
) -> None:
    answers = iter(
        [
            RpcReply.failure(RpcError.of("unauthorized", "unknown email")),
            RpcReply.failure(RpcError.of("unauthorized", "wrong password")),
            RpcReply.failure(RpcError.of("forbidden", "revoked")),
        ]
    )
    backend.replies[("portal-config", "member.login")] = lambda body: next(answers)
    bodies = set()
    for _ in range(3):
        response = await customer.post(
            "/help/api/login", json={"email": "a@b.co", "password": "whatever1"}
        )
        assert response.status_code == 401
        bodies.add(response.content)
    assert len(bodies) == 1
    backend.replies[("portal-config", "member.login")] = RpcReply.failure(
        RpcError.of("rate_limited", "slow down", retry_after_seconds=4.2)
    )
    response = await customer.post("/help/api/login", json={"email": "a@b.co", "password": "p"})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "5"


async def test_register_and_reset_answer_the_same_whatever_happens(
    customer: Any, backend: Any
) -> None:
    for op, path in (
        ("member.register", "register"),
        ("member.request_password_reset", "password-reset"),
    ):
        seen = set()
        for reply in (
            RpcReply.success({}),
            RpcReply.failure(RpcError.of("not_found", "unknown")),
            RpcReply.failure(RpcError.of("forbidden", "not eligible")),
        ):
            backend.replies[("portal-config", op)] = reply
            response = await customer.post(f"/help/api/{path}", json={"email": "x@y.co"})
            seen.add((response.status_code, response.content))
        assert len(seen) == 1 and next(iter(seen))[0] == 202


async def test_writes_need_the_sessions_csrf_token(customer: Any) -> None:
    cookie = {"Cookie": f"portal_session={SESSION}"}
    body = {"subject": "s", "description": "d"}
    for headers in (cookie, cookie | {"X-CSRF-Token": "wrong" * 8}):
        response = await customer.post("/help/api/tickets", json=body, headers=headers)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
    response = await customer.post("/help/api/tickets", json=body, headers={"X-CSRF-Token": CSRF})
    assert response.status_code == 401
    response = await customer.post("/help/api/logout", headers=cookie)
    assert response.status_code == 403


async def test_a_new_ticket_becomes_three_crm_events(
    customer: Any, backend: Any, nats_url: str, namespace: Namespace
) -> None:
    nc = await nats.connect(nats_url)
    seen: list[dict[str, Any]] = []

    async def collect(msg: Any) -> None:
        seen.append(json.loads(msg.data) | {"msg_id": msg.headers.get("Nats-Msg-Id")})

    await nc.subscribe(f"{namespace.name}.crm.v1.>", cb=collect)
    await nc.flush()
    backend.replies[("ticket-view", "contacts.get")] = RpcReply.success(
        {"contact_id": "c1", "email": "a@b.co", "name": "Ann <b>Lee</b>"}
    )
    headers = {"Cookie": f"portal_session={SESSION}", "X-CSRF-Token": CSRF}
    body = {"subject": "<img src=x onerror=alert(1)>", "description": "It <i>broke</i>"}
    response = await customer.post("/help/api/tickets", json=body, headers=headers)
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert ticket["subject"] == body["subject"]
    assert (ticket["pipeline"], ticket["stage"], ticket["status"]) == ("support", "new", "open")
    await eventually(lambda: len(seen) == 3, timeout=5)
    await nc.close()
    by_type = {r["event"]["type"]: r for r in seen}
    upserted = by_type["ticket.upserted"]["event"]["data"]
    assert upserted["inbox_id"] == "inbox1" and upserted["ticket_id"] == ticket["id"]
    link = by_type["ticket.contact_associated"]["event"]["data"]
    assert link == {"ticket_id": ticket["id"], "contact_id": "c1"}
    message = by_type["ticket.message_added"]["event"]["data"]
    assert message["author"] == {"type": "contact", "id": "c1", "name": "Ann <b>Lee</b>"}
    assert message["body"] == body["description"] and message["public"] is True
    assert all(r["account_id"] == "acc1" for r in seen)
    assert len({r["msg_id"] for r in seen}) == 3


async def test_a_form_problem_is_named(customer: Any) -> None:
    headers = {"Cookie": f"portal_session={SESSION}", "X-CSRF-Token": CSRF}
    body = {"subject": "Help", "description": "d", "fields": {"colour": "red"}}
    response = await customer.post("/help/api/tickets", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["details"]["errors"][0]["field"] == "fields.colour"


async def test_bad_list_queries_are_422(customer: Any) -> None:
    cookie = {"Cookie": f"portal_session={SESSION}"}
    for query in ("limit=0", "limit=101", "sort=subject", "status=pending", "limit=x"):
        response = await customer.get(f"/help/api/tickets?{query}", headers=cookie)
        assert response.status_code == 422, query
    await asyncio.sleep(0)
