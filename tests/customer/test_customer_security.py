"""Customer-side security against the real services: enumeration, one-time tokens, CSRF,
session scope and lifetime, object-level authorization, rate limits, password rules, and
user text stored and returned as text."""

from __future__ import annotations

from typing import Any

from devstack.testing import eventually

HOST = "support.acme.test"
HTML = '<script>alert("x")</script><img src=x onerror=alert(1)>&amp;'


async def test_nothing_tells_whether_an_email_is_known(stack: Any) -> None:
    admin, crm = stack.a, stack.a.crm
    await admin.portal(HOST)
    await admin.ingest(crm.contact("c1", "ann@example.com"), crm.contact("c2", "cy@example.com"))
    await stack.member(HOST, "ann@example.com")
    visitor = stack.customer(HOST)

    async def answers(path: str, body: dict[str, Any]) -> set[tuple[int, bytes]]:
        response = await visitor.call("POST", path, body)
        return {(response.status_code, response.content)}

    for path in ("register", "password-reset"):
        seen = set()
        for email in ("ann@example.com", "cy@example.com", "nobody@example.com", "x@evil.test"):
            seen |= await answers(path, {"email": email})
        assert len(seen) == 1 and next(iter(seen))[0] == 202, (path, seen)
    seen = set()
    for email, password in (
        ("ann@example.com", "wrong password 1"),
        ("nobody@example.com", "x" * 12),
        ("cy@example.com", stack.password),
    ):
        seen |= await answers("login", {"email": email, "password": password})
    assert len(seen) == 1 and next(iter(seen))[0] == 401, seen


async def test_tokens_work_once_and_sessions_end_on_logout_reset_and_revocation(
    stack: Any,
) -> None:
    admin, crm = stack.a, stack.a.crm
    pid = await admin.portal(HOST)
    await admin.ingest(crm.contact("c1", "ann@example.com"))
    first = await stack.member(HOST, "ann@example.com")
    used = stack.token_of([link for to, link in stack.links() if to == "ann@example.com"][-1])
    again = await stack.customer(HOST).call(
        "POST", "activate", {"token": used, "password": stack.password}
    )
    assert again.status_code == 400
    for token in ("x" * 40, "", "../../etc/passwd"):
        bad = await stack.customer(HOST).call(
            "POST", "activate", {"token": token, "password": "p" * 12}
        )
        assert bad.status_code in (400, 422), token

    second = stack.customer(HOST)
    assert (await second.login("ann@example.com")).status_code == 200
    assert (
        await stack.customer(HOST).call("POST", "password-reset", {"email": "ann@example.com"})
    ).status_code == 202
    link = await stack.link_to("ann@example.com", kind="password-reset/confirm")
    assert link.startswith(f"https://{HOST}/help/password-reset/confirm?token=")
    third = stack.customer(HOST)
    new_password = "a much better passphrase"
    body = {"token": stack.token_of(link), "password": new_password}
    assert (await third.call("POST", "password-reset/confirm", body)).status_code == 200
    assert (
        await stack.customer(HOST).call("POST", "password-reset/confirm", body)
    ).status_code == 400
    for old in (first, second):
        assert (await old.call("GET", "me")).status_code == 401
    assert (await third.call("GET", "me")).status_code == 200
    assert (await stack.customer(HOST).login("ann@example.com")).status_code == 401
    fourth = stack.customer(HOST)
    assert (await fourth.login("ann@example.com", new_password)).status_code == 200

    assert (await admin.http.delete(f"/api/v1/portals/{pid}/members/c1")).status_code == 204
    for session in (third, fourth):
        assert (await session.call("GET", "me")).status_code == 401
    assert (await stack.customer(HOST).login("ann@example.com", new_password)).status_code == 401
    members = await admin.ok("GET", f"/api/v1/portals/{pid}/members")
    assert [m["status"] for m in members["items"]] == ["revoked"]
    assert (await admin.http.delete(f"/api/v1/portals/{pid}/members/zz")).status_code == 404
    assert (await stack.b.http.get(f"/api/v1/portals/{pid}/members")).status_code == 404


async def test_csrf_and_sessions_of_other_portals(stack: Any) -> None:
    admin, crm = stack.a, stack.a.crm
    await admin.portal(HOST, ticket_display={"allow_close": True})
    await admin.portal(HOST, slug="other")
    await admin.portal("help.globex.test")
    await admin.ingest(crm.contact("c1", "ann@example.com"), crm.ticket("t1"), crm.link("t1", "c1"))
    ann = await stack.member(HOST, "ann@example.com")
    await eventually(lambda: _sees(ann, "t1"), timeout=5)

    writes = (
        ("tickets", {"subject": "s", "description": "d"}),
        ("tickets/t1/messages", {"body": "hi"}),
        ("tickets/t1/close", None),
        ("logout", None),
    )
    for path, body in writes:
        missing = await ann.call("POST", path, body, csrf=False)
        wrong = await ann.call("POST", path, body, csrf=False, headers={"X-CSRF-Token": "x" * 43})
        for response in (missing, wrong):
            assert response.status_code == 403, (path, response.text)
            assert response.json()["error"]["code"] == "forbidden"
    assert (await ann.call("GET", "me")).status_code == 200

    elsewhere = stack.customer(HOST, slug="other")
    elsewhere.session, elsewhere.cookie_path = ann.session, ann.cookie_path
    assert "Cookie" not in elsewhere._headers("/other/api/me", False, None)
    elsewhere.cookie_path, elsewhere.csrf = "/", ann.csrf
    assert (await elsewhere.call("GET", "me")).status_code == 401
    assert (
        await elsewhere.call("POST", "tickets", {"subject": "s", "description": "d"})
    ).status_code == 401
    foreign = stack.customer("help.globex.test")
    foreign.session, foreign.cookie_path, foreign.csrf = ann.session, "/", ann.csrf
    assert (await foreign.call("GET", "tickets")).status_code == 401
    assert (await ann.call("GET", "me")).status_code == 200


async def _sees(customer: Any, ticket_id: str) -> bool:
    return ticket_id in [t["id"] for t in await customer.tickets()]


async def test_tickets_of_others_do_not_exist(stack: Any) -> None:
    a, b = stack.a, stack.b
    await a.portal(HOST, ticket_display={"allow_close": True})
    await b.portal("help.globex.test")
    await a.ingest(
        a.crm.contact("c1", "ann@example.com"),
        a.crm.contact("c2", "cy@example.com"),
        a.crm.ticket("t1"),
        a.crm.link("t1", "c1"),
        a.crm.ticket("t2"),
        a.crm.link("t2", "c2"),
    )
    await b.ingest(
        b.crm.contact("c1", "ann@example.com"), b.crm.ticket("tb"), b.crm.link("tb", "c1")
    )
    ann = await stack.member(HOST, "ann@example.com")
    await eventually(lambda: _sees(ann, "t1"), timeout=5)
    assert [t["id"] for t in await ann.tickets()] == ["t1"]
    for ticket_id in ("t2", "tb", "nope", "bad%20id"):
        assert (await ann.call("GET", f"tickets/{ticket_id}")).status_code == 404, ticket_id
        reply = await ann.call("POST", f"tickets/{ticket_id}/messages", {"body": "mine now"})
        assert reply.status_code == 404, ticket_id
        assert (await ann.call("POST", f"tickets/{ticket_id}/close")).status_code == 404, ticket_id
    for query in (
        {"limit": 0},
        {"limit": 101},
        {"sort": "subject"},
        {"status": "x"},
        {"cursor": "garbage"},
    ):
        response = await ann.call("GET", "tickets", params=query)
        assert response.status_code in (400, 422), (query, response.text)
        assert "error" in response.json()


async def test_user_text_is_stored_and_returned_as_text(stack: Any) -> None:
    admin, crm = stack.a, stack.a.crm
    form = {"enabled": True, "fields": [{"name": "notes", "label": "Notes", "type": "text"}]}
    await admin.portal(HOST, support_form=form, ticket_display={"properties": ["notes"]})
    await admin.ingest(crm.contact("c1", "ann@example.com", firstname=HTML))
    ann = await stack.member(HOST, "ann@example.com")
    me = await ann.call("GET", "me")
    assert me.headers["content-type"] == "application/json"
    assert me.json()["name"] == HTML
    created = await ann.call(
        "POST", "tickets", {"subject": HTML, "description": HTML, "fields": {"notes": HTML}}
    )
    assert created.status_code == 201, created.text
    ticket_id = created.json()["id"]
    reply = await ann.call("POST", f"tickets/{ticket_id}/messages", {"body": HTML})
    assert reply.status_code == 201 and reply.json()["body"] == HTML
    detail = await ann.call("GET", f"tickets/{ticket_id}")
    assert detail.headers["content-type"] == "application/json"
    ticket = detail.json()
    assert ticket["subject"] == HTML and ticket["properties"] == {"notes": HTML}
    assert [m["body"] for m in ticket["messages"]] == [HTML, HTML]
    assert ticket["messages"][0]["author"]["name"] == HTML
    listed = await ann.tickets(q="<script>")
    assert [t["subject"] for t in listed] == [HTML]


async def test_password_rules_and_login_rate_limit(stack: Any) -> None:
    admin, crm = stack.a, stack.a.crm
    await admin.portal(HOST)
    await admin.ingest(crm.contact("c1", "ann@example.com"))
    visitor = stack.customer(HOST)

    token = stack.token_of(await stack.registration_link(HOST, "ann@example.com"))
    for password in ("short1", "password", "12345678", "qwertyuiop", "p" * 129):
        response = await visitor.call("POST", "activate", {"token": token, "password": password})
        assert response.status_code == 422, (password, response.text)
        assert response.json()["error"]["code"] == "validation_error"
    oversized = await visitor.call("POST", "activate", {"token": token, "password": "p" * 5000})
    assert oversized.status_code == 422
    longest = "Zq9!" * 32
    response = await visitor.call("POST", "activate", {"token": token, "password": longest})
    assert response.status_code == 200, response.text

    statuses = []
    for _ in range(40):
        response = await stack.customer(HOST).login("ann@example.com", "wrong password!")
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) >= 1
            assert response.json()["error"]["code"] == "rate_limited"
            break
    assert statuses[-1] == 429, statuses
    assert set(statuses[:-1]) == {401}


async def test_tokens_and_sessions_expire(stack: Any) -> None:
    admin, crm = stack.a, stack.a.crm
    await admin.portal(HOST)
    await admin.ingest(crm.contact("c1", "ann@example.com"), crm.contact("c2", "cy@example.com"))
    ann = await stack.member(HOST, "ann@example.com")
    cy_link = await stack.registration_link(HOST, "cy@example.com")
    assert (
        await ann.call("POST", "password-reset", {"email": "ann@example.com"})
    ).status_code == 202
    reset_link = await stack.link_to("ann@example.com", kind="password-reset/confirm")

    stack.advance(minutes=31)
    assert (await ann.call("GET", "me")).status_code == 401
    body = {"token": stack.token_of(reset_link), "password": "a much better passphrase"}
    assert (
        await stack.customer(HOST).call("POST", "password-reset/confirm", body)
    ).status_code == 400
    assert (await stack.customer(HOST).login("ann@example.com")).status_code == 200

    stack.advance(hours=72)
    body = {"token": stack.token_of(cy_link), "password": stack.password}
    assert (await stack.customer(HOST).call("POST", "activate", body)).status_code == 400
