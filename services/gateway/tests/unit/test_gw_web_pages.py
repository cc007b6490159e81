"""Customer web pages against a scripted backend on real NATS: rendering, language, CSRF,
Post/Redirect/Get, email-link tokens, escaping and security headers."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from gateway.bootstrap import start
from gateway.settings import Settings
from portal_contracts.rpc import RpcError, RpcReply

HOST = "localhost"
SESSION = "s" * 32
CSRF = "c" * 32
ISSUED = {
    "session_id": SESSION,
    "csrf_token": CSRF,
    "contact_id": "c1",
    "idle_expires_at": "2099-01-01T00:00:00Z",
    "absolute_expires_at": "2099-01-01T00:00:00Z",
}
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
TICKET = {
    "id": "t1",
    "subject": XSS,
    "status": "open",
    "stage": "new",
    "status_label": "Received",
    "pipeline": "support",
    "created_at": "2026-01-05T14:30:00Z",
    "updated_at": "2026-01-05T14:30:00Z",
    "properties": {"order_number": "A-1"},
    "scope": "company",
}


def _portal(make_portal: Any, **fields: Any) -> dict[str, Any]:
    base = {
        "title": "Acme <Help>",
        "status": "active",
        "domain": HOST,
        "slug": "help",
        "language": "pt-BR",
        "default_inbox_id": "inbox1",
        "access": {"mode": "open"},
        "setup": {"missing": []},
        "account_id": "acc1",
    }
    return dict(make_portal(**(base | fields)))


@pytest.fixture
def portal(make_portal: Any) -> dict[str, Any]:
    return _portal(make_portal)


@pytest.fixture
async def web(backend: Any, gateway_settings: Settings, portal: dict[str, Any]) -> Any:
    def resolve(body: dict[str, Any]) -> RpcReply:
        if body["slug"] == "help" and body["host"] == HOST:
            return RpcReply.success(portal)
        return RpcReply.failure(RpcError.of("not_found", "no such portal"))

    def session(body: dict[str, Any]) -> RpcReply:
        if body["session_id"] == SESSION:
            return RpcReply.success({k: v for k, v in ISSUED.items() if k != "session_id"})
        return RpcReply.failure(RpcError.of("unauthorized", "no session"))

    backend.replies[("portal-config", "portal.resolve")] = resolve
    backend.replies[("portal-config", "session.resolve")] = session
    backend.replies[("ticket-view", "contacts.get")] = RpcReply.success(
        {"contact_id": "c1", "email": "ana@acme.test", "name": "Ana"}
    )
    backend.replies[("ticket-view", "tickets.list")] = RpcReply.success(
        {"items": [TICKET], "next_cursor": "cur1"}
    )
    backend.replies[("ticket-view", "tickets.get")] = RpcReply.success(
        TICKET
        | {
            "messages": [
                {
                    "id": "m1",
                    "author": {"type": "contact", "name": "Ana"},
                    "body": XSS,
                    "created_at": "2026-01-05T14:30:00Z",
                },
                {
                    "id": "m2",
                    "author": {"type": "agent", "name": "Bo"},
                    "body": "Hi",
                    "created_at": "2026-01-05T15:30:00Z",
                },
            ]
        }
    )
    running = await start(gateway_settings)
    async with httpx.AsyncClient(base_url=running.url, headers={"Host": HOST}, timeout=5) as http:
        yield http
    await running.stop()


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


async def test_login_page_speaks_the_portal_language_with_strict_headers(web: Any) -> None:
    home = await web.get("/help/")
    assert home.status_code == 303 and home.headers["location"] == "/help/login"
    page = await web.get("/help/login")
    assert page.status_code == 200
    html = page.text
    assert '<html lang="pt-BR">' in html
    assert "<title>Acme &lt;Help&gt;</title>" in html
    assert "Entrar" in html and "Esqueceu sua senha?" in html
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "portal_csrf=" in page.headers["set-cookie"]
    assert "<script>" not in html.replace('<script src="/static/portal/portal.js', "")


async def test_unknown_portal_is_a_404_page(web: Any) -> None:
    for host, path in ((HOST, "/other/login"), ("evil.test", "/help/login")):
        response = await web.get(path, headers={"Host": host})
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")


async def test_login_without_the_csrf_token_is_refused_and_keeps_the_email(
    web: Any, backend: Any
) -> None:
    await web.get("/help/login")
    response = await web.post(
        "/help/login",
        data={"email": "ana@acme.test", "password": "secret-pass", "csrf_token": "x" * 40},
    )
    assert response.status_code == 303 and response.headers["location"] == "/help/login"
    assert not backend.ops("member.login")
    page = await web.get("/help/login")
    assert "Este formulário expirou" in page.text
    assert 'value="ana@acme.test"' in page.text
    assert "secret-pass" not in page.text


async def test_wrong_password_then_login(web: Any, backend: Any) -> None:
    token = _csrf((await web.get("/help/login")).text)
    backend.replies[("portal-config", "member.login")] = RpcReply.failure(
        RpcError.of("unauthorized", "nope")
    )
    wrong = await web.post(
        "/help/login", data={"email": "ana@acme.test", "password": "bad-pass", "csrf_token": token}
    )
    assert wrong.status_code == 303
    page = await web.get("/help/login")
    assert "O e-mail ou a senha não está correto." in page.text
    backend.replies[("portal-config", "member.login")] = RpcReply.success(ISSUED)
    right = await web.post(
        "/help/login", data={"email": "ana@acme.test", "password": "good-pass", "csrf_token": token}
    )
    assert right.status_code == 303 and right.headers["location"] == "/help/"
    assert f"portal_session={SESSION}" in right.headers["set-cookie"]
    assert (
        "HttpOnly" in right.headers["set-cookie"] and "Path=/help/" in right.headers["set-cookie"]
    )


async def test_ticket_list_and_ticket_escape_everything(web: Any) -> None:
    web.cookies.set("portal_session", SESSION)
    page = await web.get("/help/?status=all")
    assert page.status_code == 200
    assert XSS not in page.text and "&lt;script&gt;" in page.text
    assert "Empresa" in page.text and "Received" in page.text
    assert "cursor=cur1" in page.text
    assert "5 de jan. de 2026" in page.text
    ticket = await web.get("/help/tickets/t1")
    assert ticket.status_code == 200
    assert XSS not in ticket.text and "&lt;img src=x onerror=alert(1)&gt;" in ticket.text
    assert "message-agent" in ticket.text and "message-customer" in ticket.text
    assert ticket.text.index("message-customer") < ticket.text.index("message-agent")
    assert _csrf(ticket.text) == CSRF


async def test_email_link_token_leaves_the_address_bar(web: Any, backend: Any) -> None:
    link = await web.get("/help/activate?token=" + "t" * 40)
    assert link.status_code == 303 and link.headers["location"] == "/help/activate"
    assert "portal_activation=" + "t" * 40 in link.headers["set-cookie"]
    form = await web.get("/help/activate")
    assert "Escolha sua senha" in form.text and "8 caracteres" in form.text
    backend.replies[("portal-config", "member.activate")] = RpcReply.failure(
        RpcError.of("validation_error", "too common", reason="common")
    )
    data = {
        "password": "password1",
        "password_confirm": "password1",
        "csrf_token": _csrf(form.text),
    }
    refused = await web.post("/help/activate", data=data)
    assert refused.status_code == 303
    again = await web.get("/help/activate")
    assert "comum demais" in again.text
    assert backend.ops("member.activate")[0].body["token"] == "t" * 40
    backend.replies[("portal-config", "member.activate")] = RpcReply.success(ISSUED)
    done = await web.post("/help/activate", data=data | {"csrf_token": _csrf(again.text)})
    assert done.status_code == 303 and done.headers["location"] == "/help/"
    cookies = done.headers.get_list("set-cookie")
    assert any(c.startswith("portal_activation=") and "Max-Age=0" in c for c in cookies)
    assert any(c.startswith(f"portal_session={SESSION}") for c in cookies)


async def test_consent_notice_until_answered(web: Any, portal: dict[str, Any]) -> None:
    portal["consent_notice"] = {"enabled": True, "text": "We keep <b>data</b>."}
    page = await web.get("/help/login")
    assert "We keep &lt;b&gt;data&lt;/b&gt;." in page.text
    answer = await web.post(
        "/help/consent",
        data={"choice": "accepted", "next": "/help/login", "csrf_token": _csrf(page.text)},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/help/login"
    assert "We keep" not in (await web.get("/help/login")).text


async def test_open_redirects_are_refused(web: Any) -> None:
    page = await web.get("/help/login")
    answer = await web.post(
        "/help/consent",
        data={"choice": "accepted", "next": "//evil.test/x", "csrf_token": _csrf(page.text)},
    )
    assert answer.headers["location"] == "/help/"


async def test_the_support_form_is_enforced_on_the_server(
    web: Any, backend: Any, portal: dict[str, Any]
) -> None:
    portal["support_form"] = {
        "enabled": True,
        "fields": [
            {"name": "order", "label": "Order", "type": "text", "required": True},
            {"name": "size", "label": "Size", "type": "select", "options": ["S", "M"]},
        ],
    }
    web.cookies.set("portal_session", SESSION)
    form = await web.get("/help/tickets/new")
    assert form.status_code == 200
    assert 'name="field_order"' in form.text and "required" in form.text
    data = {
        "csrf_token": _csrf(form.text),
        "subject": "Printer <b>",
        "description": "",
        "field_order": " ",
        "field_size": "XL",
    }
    refused = await web.post("/help/tickets/new", data=data)
    assert refused.status_code == 303 and refused.headers["location"] == "/help/tickets/new"
    page = await web.get("/help/tickets/new")
    assert page.text.count("Este campo é obrigatório.") == 2
    assert "Escolha uma das opções." in page.text
    assert 'value="Printer &lt;b&gt;"' in page.text


async def test_a_silent_backend_is_a_503_page(web: Any, backend: Any) -> None:
    backend.replies[("portal-config", "session.resolve")] = None
    web.cookies.set("portal_session", SESSION)
    page = await web.get("/help/")
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["retry-after"]
