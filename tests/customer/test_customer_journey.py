"""The member's whole journey, invite mode and open mode: email → activate → login → list →
reply → new ticket → close → logout, against the real services."""

from __future__ import annotations

from typing import Any

from devstack.testing import eventually

FORM = {
    "enabled": True,
    "fields": [
        {
            "name": "product",
            "label": "Product",
            "type": "select",
            "options": ["Alpha", "Beta"],
            "required": True,
        },
        {"name": "contact_email", "label": "Other email", "type": "email"},
    ],
}
DISPLAY = {
    "pipelines": ["helpdesk"],
    "status_labels": {"new": "Received"},
    "properties": ["product"],
    "allow_close": True,
}


async def test_invited_member_journey(stack: Any) -> None:
    admin, crm = stack.a, stack.a.crm
    pid = await admin.portal(
        "support.acme.test",
        access={
            "mode": "invite",
            "access_groups": [{"name": "vip", "contact_ids": ["someone-else"]}],
            "registration_email_delay_seconds": 0,
        },
        ticket_display=DISPLAY,
        support_form=FORM,
    )
    await admin.ingest(
        crm.contact("c1", "ann@example.com", firstname="Ann", lastname="Lee"),
        crm.ticket("t1", pipeline="helpdesk"),
        crm.link("t1", "c1"),
        crm.message("t1", "m1", "Public answer"),
        crm.message("t1", "m2", "Internal note", public=False),
    )
    await admin.invite(pid, "c1")
    members = await admin.ok("GET", f"/api/v1/portals/{pid}/members")
    assert [(m["contact_id"], m["status"]) for m in members["items"]] == [("c1", "invited")]

    link = await stack.link_to("ann@example.com")
    assert link.startswith("https://support.acme.test/help/activate?token=")
    ann = stack.customer("support.acme.test")
    response = await ann.call(
        "POST", "activate", {"token": stack.token_of(link), "password": stack.password}
    )
    assert response.status_code == 200, response.text
    assert ann.session and ann.csrf and ann.cookie_path == "/help/"
    for attribute in ("HttpOnly", "Secure", "SameSite=lax", "Path=/help/"):
        assert attribute in ann.last_set_cookie

    me = (await ann.call("GET", "me")).json()
    assert me == {"contact_id": "c1", "email": "ann@example.com", "name": "Ann Lee"}
    assert [t["id"] for t in await ann.tickets()] == ["t1"]
    detail = (await ann.call("GET", "tickets/t1")).json()
    assert [m["body"] for m in detail["messages"]] == ["Public answer"]
    assert detail["status_label"] == "Received"

    reply = await ann.call("POST", "tickets/t1/messages", {"body": "Thanks!"})
    assert reply.status_code == 201, reply.text
    assert reply.json()["body"] == "Thanks!"
    assert reply.json()["author"]["type"] == "contact"
    detail = (await ann.call("GET", "tickets/t1")).json()
    assert [m["body"] for m in detail["messages"]] == ["Public answer", "Thanks!"]

    created = await ann.call(
        "POST",
        "tickets",
        {
            "subject": "Printer on fire",
            "description": "Smoke everywhere",
            "fields": {"product": "Beta"},
        },
    )
    assert created.status_code == 201, created.text
    ticket: dict[str, Any] = created.json()
    assert (ticket["pipeline"], ticket["stage"], ticket["status"]) == ("helpdesk", "new", "open")
    assert ticket["properties"] == {"product": "Beta"}
    listed = await ann.tickets()
    assert ticket["id"] in [t["id"] for t in listed]
    preview = await admin.ok("GET", f"/api/v1/portals/{pid}/preview?contact_id=c1")
    assert ticket["id"] in [t["id"] for t in preview["items"]]

    closed = await ann.call("POST", f"tickets/{ticket['id']}/close")
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert [t["id"] for t in await ann.tickets(status="closed")] == [ticket["id"]]

    members = await admin.ok("GET", f"/api/v1/portals/{pid}/members")
    assert [(m["contact_id"], m["status"]) for m in members["items"]] == [("c1", "active")]
    again = await admin.http.post(f"/api/v1/portals/{pid}/invitations", json={"contact_id": "c1"})
    assert again.status_code == 409

    await admin.ingest(crm.contact("c1", "ann.lee@example.org", firstname="Ann", lastname="Lee"))

    async def current_email() -> bool:
        return bool((await ann.call("GET", "me")).json()["email"] == "ann.lee@example.org")

    await eventually(current_email, timeout=5)

    old_session = ann.session
    assert (await ann.call("POST", "logout")).status_code == 204
    assert ann.session is None
    assert (await ann.call("GET", "me")).status_code == 401
    replay = await stack.anonymous.get(
        "/help/api/me",
        headers={"Host": "support.acme.test", "Cookie": f"portal_session={old_session}"},
    )
    assert replay.status_code == 401

    login = await ann.login("ANN.Lee@example.org")
    assert login.status_code == 200, login.text
    assert (await ann.call("GET", "me")).status_code == 200


async def test_open_mode_self_registration_journey(stack: Any) -> None:
    admin, crm = stack.a, stack.a.crm
    await admin.portal("localhost:8000", slug="portal")
    await admin.ingest(crm.contact("c2", "bob@example.com"), crm.ticket("t2"), crm.link("t2", "c2"))
    bob = await stack.member("localhost:8000", "bob@example.com", slug="portal")
    link = [link for to, link in stack.links() if to == "bob@example.com"][-1]
    assert link.startswith("http://localhost:8000/portal/activate?token=")
    assert "Secure" not in bob.last_set_cookie
    assert (await bob.call("POST", "logout")).status_code == 204

    assert (await bob.login("bob@example.com")).status_code == 200
    assert [t["id"] for t in await bob.tickets()] == ["t2"]
    assert (await bob.call("POST", "tickets/t2/messages", {"body": "Any news?"})).status_code == 201
    created = await bob.call("POST", "tickets", {"subject": "New one", "description": "Details"})
    assert created.status_code == 201, created.text
    assert created.json()["pipeline"] == "support"
    assert {t["id"] for t in await bob.tickets()} == {"t2", created.json()["id"]}
    refused = await bob.call("POST", "tickets/t2/close")
    assert refused.status_code == 403
    assert (await bob.call("POST", "logout")).status_code == 204
    assert (await bob.call("GET", "tickets")).status_code == 401
