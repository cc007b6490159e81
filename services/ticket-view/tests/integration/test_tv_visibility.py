"""The visibility matrix: every mode x association shape, then changes to the shapes."""

from __future__ import annotations

import pytest

GOLD = [[{"property": "tier", "operator": "eq", "value": "gold"}]]


@pytest.fixture
async def world(tv, events, portal_events):
    """Portals own / company / company_for_some (tier = gold) over one CRM data set."""
    for portal_id, mode, filters in (
        ("p-own", "own", None),
        ("p-co", "company", None),
        ("p-some", "company_for_some", GOLD),
    ):
        p = portal_events("acc", portal_id)
        await tv.publish_portal([p.created(), p.visibility(mode, filters)])
    await tv.publish_crm(
        "acc",
        [
            events.company("co1"),
            events.company("co2"),
            events.contact("gold", "co1", properties={"tier": "gold"}),
            events.contact("silver", "co1", properties={"tier": "silver"}),
            events.contact("nocomp", None, properties={"tier": "gold"}),
            *[events.ticket(f"t{i}") for i in range(1, 7)],
            events.link_contact("t1", "gold"),
            events.link_company("t2", "co1"),
            events.link_contact("t3", "gold"),
            events.link_company("t3", "co1"),
            events.link_contact("t4", "silver"),
            events.link_company("t5", "co2"),
            events.link_contact("t6", "nocomp"),
        ],
    )
    await tv.synced()
    return tv


MATRIX = {
    ("p-own", "gold"): {"t1", "t3"},
    ("p-own", "silver"): {"t4"},
    ("p-own", "nocomp"): {"t6"},
    ("p-co", "gold"): {"t1", "t2", "t3"},
    ("p-co", "silver"): {"t2", "t3", "t4"},
    ("p-co", "nocomp"): {"t6"},
    ("p-some", "gold"): {"t1", "t2", "t3"},
    ("p-some", "silver"): {"t4"},
    ("p-some", "nocomp"): {"t6"},
}


async def test_visible_set_per_mode_and_shape(world):
    for (portal, contact), expected in sorted(MATRIX.items()):
        assert await world.visible("acc", portal, contact) == expected, (portal, contact)
        for ticket in sorted({f"t{i}" for i in range(1, 7)}):
            reply = await world.rpc(
                "tickets.get",
                account_id="acc",
                portal_id=portal,
                contact_id=contact,
                ticket_id=ticket,
            )
            assert reply["ok"] == (ticket in expected), (portal, contact, ticket)
            if not reply["ok"]:
                assert reply["error"]["code"] == "not_found"


async def test_scope_and_preview_reasons(world):
    page = await world.ok(
        "tickets.preview", account_id="acc", portal_id="p-some", contact_id="gold"
    )
    by_id = {item["id"]: item for item in page["items"]}
    assert by_id["t1"]["scope"] == "own"
    assert by_id["t3"]["scope"] == "own"
    assert by_id["t3"]["reason"] == {"kind": "own_association"}
    assert by_id["t2"]["scope"] == "company"
    assert by_id["t2"]["reason"] == {
        "kind": "primary_company",
        "company_id": "co1",
        "filter_group": 0,
    }


async def test_company_switch_deletions_and_dissociations(world, events):
    tv = world
    await tv.publish_crm("acc", [events.contact("silver", "co2", properties={"tier": "silver"})])
    await tv.synced()
    assert await tv.visible("acc", "p-co", "silver") == {"t4", "t5"}

    await tv.publish_crm(
        "acc", [events.ticket_deleted("t2"), events.link_contact("t1", "gold", on=False)]
    )
    await tv.synced()
    assert await tv.visible("acc", "p-co", "gold") == {"t3"}

    await tv.publish_crm("acc", [events.ticket("t2", at=0)])
    await tv.synced()
    assert await tv.visible("acc", "p-co", "gold") == {"t3"}, "an older upsert must not resurrect"

    await tv.publish_crm("acc", [events.company_deleted("co1")])
    await tv.synced()
    assert await tv.visible("acc", "p-co", "gold") == {"t3"}
    assert await tv.visible("acc", "p-co", "silver") == {"t4", "t5"}
    await tv.publish_crm("acc", [events.link_contact("t3", "gold", on=False)])
    await tv.synced()
    assert await tv.visible("acc", "p-co", "gold") == set()

    await tv.publish_crm("acc", [events.contact_deleted("nocomp")])
    await tv.synced()
    assert await tv.visible("acc", "p-own", "nocomp") == set()
    reply = await tv.rpc(
        "tickets.get", account_id="acc", portal_id="p-own", contact_id="nocomp", ticket_id="t6"
    )
    assert reply["error"]["code"] == "not_found"


async def test_association_before_its_entities_takes_effect_when_they_arrive(
    tv, events, portal_events
):
    p = portal_events("acc", "p")
    await tv.publish_portal([p.created(), p.visibility("company")])
    await tv.publish_crm("acc", [events.link_contact("t9", "c9"), events.link_company("t8", "co9")])
    await tv.synced()
    await tv.publish_crm("acc", [events.contact("c9", "co9")])
    await tv.synced()
    assert await tv.visible("acc", "p", "c9") == set()
    await tv.publish_crm("acc", [events.ticket("t9"), events.ticket("t8")])
    await tv.synced()
    assert await tv.visible("acc", "p", "c9") == {"t9"}, "company co9 is not known yet"
    await tv.publish_crm("acc", [events.company("co9")])
    await tv.synced()
    assert await tv.visible("acc", "p", "c9") == {"t8", "t9"}


async def test_pipelines_filter_and_unknown_portal(tv, events, portal_events):
    p = portal_events("acc", "p")
    await tv.publish_portal([p.created(), p.visibility("own"), p.display(pipelines=["support"])])
    await tv.publish_crm(
        "acc",
        [
            events.contact("c"),
            events.ticket("t1"),
            events.ticket("t2", pipeline="billing"),
            events.link_contact("t1", "c"),
            events.link_contact("t2", "c"),
        ],
    )
    await tv.synced()
    assert await tv.visible("acc", "p", "c") == {"t1"}
    hidden = await tv.rpc(
        "tickets.get", account_id="acc", portal_id="p", contact_id="c", ticket_id="t2"
    )
    missing = await tv.rpc(
        "tickets.get", account_id="acc", portal_id="p", contact_id="c", ticket_id="zz"
    )
    assert hidden == missing
    for account, portal in (("acc", "nope"), ("other", "p")):
        reply = await tv.rpc("tickets.list", account_id=account, portal_id=portal, contact_id="c")
        assert reply["error"]["code"] == "not_found"


async def test_tenants_never_mix(tv, events, portal_events):
    for account in ("a1", "a2"):
        p = portal_events(account, "p")
        await tv.publish_portal([p.created(), p.visibility("company")])
    await tv.publish_crm(
        "a1",
        [
            events.company("co"),
            events.contact("c", "co"),
            events.ticket("t1"),
            events.link_company("t1", "co"),
        ],
    )
    await tv.publish_crm(
        "a2",
        [
            events.contact("c", "co", email="other@example.org"),
            events.ticket("t2"),
            events.link_contact("t2", "c"),
        ],
    )
    await tv.synced()
    assert await tv.visible("a1", "p", "c") == {"t1"}
    assert await tv.visible("a2", "p", "c") == {"t2"}, "co is not a company of a2"
    reply = await tv.rpc(
        "tickets.get", account_id="a2", portal_id="p", contact_id="c", ticket_id="t1"
    )
    assert reply["error"]["code"] == "not_found"
    found = await tv.ok("contacts.find_by_email", account_id="a2", email="other@example.org")
    assert found["contact_id"] == "c"
    reply = await tv.rpc("contacts.find_by_email", account_id="a1", email="other@example.org")
    assert reply["error"]["code"] == "not_found"
    contact = await tv.ok("contacts.get", account_id="a1", contact_id="c")
    assert contact["company"] == {"id": "co", "name": "Co co"}


async def test_a_rule_change_shows_in_the_very_next_list(world, portal_events):
    """The service remembers a portal's rules between lists; nothing tells it of a change
    (the projector does not touch that memory, and may run in another process), yet the next
    list after the change is projected follows the new rules."""
    tv = world
    p = portal_events("acc", "p-switch")
    await tv.publish_portal([p.created(), p.visibility("company")])
    await tv.synced()
    for _ in range(2):
        assert await tv.visible("acc", "p-switch", "silver") == {"t2", "t3", "t4"}

    steps: list[tuple[dict, set[str]]] = [
        (p.visibility("own"), {"t4"}),
        (p.visibility("company"), {"t2", "t3", "t4"}),
        (p.display(pipelines=["billing"]), set()),
        (p.display(pipelines=["support"]), {"t2", "t3", "t4"}),
        (p.visibility("company_for_some", GOLD), {"t4"}),
        (p.visibility("company"), {"t2", "t3", "t4"}),
    ]
    for event, expected in steps:
        await tv.publish_portal([event])
        await tv.synced()
        for _ in range(2):
            assert await tv.visible("acc", "p-switch", "silver") == expected, event["data"]
