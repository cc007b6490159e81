from __future__ import annotations


async def test_a_contact_sees_its_own_ticket_with_display_settings(tv, events, portal_events):
    p = portal_events("acc1", "portal1")
    await tv.publish_portal(
        [
            p.created(),
            p.visibility("own"),
            p.display(status_labels={"new": "Received"}, properties=["sla", "region", "note"]),
        ]
    )
    await tv.publish_crm(
        "acc1",
        [
            events.contact("c1", firstname="Ann", lastname="Lee"),
            events.ticket(
                "t1", properties={"sla": "gold", "secret": "x", "note": None}, priority="high"
            ),
            events.link_contact("t1", "c1"),
            events.message("t1", "m1", "hello public"),
            events.message("t1", "m2", "internal note", public=False),
        ],
    )
    await tv.synced()
    page = await tv.ok("tickets.list", account_id="acc1", portal_id="portal1", contact_id="c1")
    assert [i["id"] for i in page["items"]] == ["t1"]
    item = page["items"][0]
    assert item["status_label"] == "Received"
    assert list(item["properties"].items()) == [("sla", "gold"), ("note", None)]
    assert item["scope"] == "own"
    assert item["priority"] == "high"
    detail = await tv.ok(
        "tickets.get", account_id="acc1", portal_id="portal1", contact_id="c1", ticket_id="t1"
    )
    assert [m["body"] for m in detail["messages"]] == ["hello public"]
    assert list(detail["properties"].items()) == [("sla", "gold"), ("note", None)]
    found = await tv.ok("contacts.find_by_email", account_id="acc1", email="C1@EXAMPLE.com")
    assert found == {
        "contact_id": "c1",
        "email": "c1@example.com",
        "name": "Ann Lee",
        "primary_company_id": None,
    }
    assert (await tv.ok("ping")) == {"status": "ok"}


async def test_replies_match_the_contract_models(tv, events, portal_events):
    from portal_contracts.ticket_view_rpc import (
        ContactDetail,
        ContactSummary,
        PreviewPage,
        TicketDetail,
        TicketPage,
    )

    p = portal_events("acc", "p")
    await tv.publish_portal([p.created(), p.visibility("company")])
    await tv.publish_crm(
        "acc",
        [
            events.company("co"),
            events.contact("c", "co"),
            events.ticket("t1"),
            events.link_company("t1", "co"),
            events.message("t1", "m1", "hi"),
        ],
    )
    await tv.synced()
    who = {"account_id": "acc", "portal_id": "p", "contact_id": "c"}
    page = TicketPage.model_validate(await tv.ok("tickets.list", **who, limit=1))
    assert page.items[0].scope == "company"
    PreviewPage.model_validate(await tv.ok("tickets.preview", **who))
    detail = TicketDetail.model_validate(await tv.ok("tickets.get", **who, ticket_id="t1"))
    assert detail.messages[0].author.type == "agent"
    ContactSummary.model_validate(
        await tv.ok("contacts.find_by_email", account_id="acc", email="c@example.com")
    )
    contact = ContactDetail.model_validate(
        await tv.ok("contacts.get", account_id="acc", contact_id="c")
    )
    assert contact.company is not None and contact.company.id == "co"
