"""Access groups over real NATS and PostgreSQL: contacts arrive on the CRM stream, member
events leave on the CONFIG stream; admin invitations, listing and revocation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from devstack.testing import eventually
from portal_contracts.member import MemberEvent
from pydantic import TypeAdapter

EVENTS: TypeAdapter[Any] = TypeAdapter(MemberEvent)
GOLD = [[{"property": "tier", "operator": "eq", "value": "gold"}]]


def invite_mode(*groups: dict[str, Any], delay: int = 120) -> dict[str, Any]:
    return {
        "mode": "invite",
        "access_groups": list(groups),
        "registration_email_delay_seconds": delay,
    }


async def types(world: Any, contact_id: str, count: int) -> list[str]:
    async def check() -> list[dict[str, Any]] | None:
        events = await world.member_events(contact_id)
        return events if len(events) >= count else None

    events = await eventually(check, timeout=10)
    for event in events:
        EVENTS.validate_python(event)
    return [e["type"] for e in events]


async def test_joining_a_dynamic_group_invites_and_leaving_before_send_after_cancels(world):
    key = await world.portal(invite_mode({"name": "Gold", "contact_filters": GOLD}, delay=120))
    aid = key["account_id"]
    await world.contact(aid, "c1", "Ann@Example.com", tier="gold")
    [invited] = await world.member_events("c1")
    assert invited["type"] == "member.invited" and invited["portal_id"] == key["portal_id"]
    assert invited["data"]["reason"] == "access_group"
    sent_at = datetime.fromisoformat(invited["data"]["send_after"])
    assert sent_at - datetime.fromisoformat(invited["occurred_at"]) == timedelta(seconds=120)
    assert invited["version"] == 1

    await world.contact(aid, "c1", "ann@example.com", tier="gold", city="Porto")
    assert len(await world.member_events("c1")) == 1, "still in the group: nothing new"

    world.clock.advance(seconds=60)
    await world.contact(aid, "c1", "ann@example.com", tier="silver")
    assert await types(world, "c1", 2) == ["member.invited", "member.invitation_cancelled"]
    members = await world.ok("member.list", **key)
    assert members == {"items": []}

    await world.contact(aid, "c1", "ann@example.com", tier="gold")
    assert (await types(world, "c1", 3))[-1] == "member.invited"
    conflict = await world.error(
        "member.issue_token",
        **key,
        contact_id="c1",
        purpose="registration",
        event_id=invited["event_id"],
    )
    assert conflict["code"] == "conflict", "the first invitation was cancelled"


async def test_leaving_after_send_after_cancels_nothing_and_deletion_before_does(world):
    key = await world.portal(invite_mode({"name": "Static", "contact_ids": ["c1", "c2"]}, delay=30))
    aid = key["account_id"]
    await world.contact(aid, "c1", "one@example.com")
    await world.contact(aid, "c2", "two@example.com")
    world.clock.advance(seconds=31)
    await world.delete_contact(aid, "c1")
    assert await types(world, "c1", 1) == ["member.invited"]
    world.clock.advance(seconds=-31)
    await world.delete_contact(aid, "c2")
    assert await types(world, "c2", 2) == ["member.invited", "member.invitation_cancelled"]


async def test_activation_and_access_changes_invite_the_known_matching_contacts(world):
    key = await world.portal(
        invite_mode({"name": "Gold", "contact_filters": GOLD}, delay=0), activate=False
    )
    aid = key["account_id"]
    await world.contact(aid, "g1", "g1@example.com", tier="gold")
    await world.contact(aid, "s1", "s1@example.com", tier="silver")
    await world.contact(aid, "x1", "x1@example.com", tier="none")
    assert await world.member_events() == [], "a draft portal invites nobody"

    await world.ok("portal.activate", **key)
    assert await types(world, "g1", 1) == ["member.invited"]
    silver = [[{"property": "tier", "operator": "in", "value": ["gold", "silver"]}]]
    await world.ok(
        "portal.configure_access",
        **key,
        access=invite_mode({"name": "Metal", "contact_filters": silver}, delay=0),
    )
    assert await types(world, "s1", 1) == ["member.invited"]
    invited = await world.member_events("g1")
    assert len(invited) == 1, "an invited contact is not invited twice by its group"
    assert await world.member_events("x1") == []
    listed = (await world.ok("member.list", **key))["items"]
    assert [(m["contact_id"], m["status"]) for m in listed] == [
        ("g1", "invited"),
        ("s1", "invited"),
    ]
    assert listed[0]["invited_at"] and listed[0]["activated_at"] is None


async def test_a_system_domain_sends_nothing_for_group_membership_but_explicit_invites(world):
    key = await world.portal(
        invite_mode({"name": "All", "contact_ids": ["c1"]}, delay=0),
        domain="portals.example.net",
        system=True,
    )
    aid = key["account_id"]
    await world.contact(aid, "c1", "one@example.com")
    await world.contact(aid, "c2", "two@example.com")
    assert await world.member_events() == []

    view = await world.ok("member.invite", **key, contact_id="c2")
    assert view["contact_id"] == "c2" and view["status"] == "invited"
    [event] = await world.member_events("c2")
    assert event["data"]["reason"] == "explicit"
    assert event["data"]["send_after"] == event["occurred_at"]


async def test_admin_invite_list_revoke_and_re_invite(world):
    key = await world.portal({"mode": "open"})
    aid = key["account_id"]
    await world.contact(aid, "c1", "one@example.com")
    assert (await world.error("member.invite", **key, contact_id="ghost"))["code"] == "not_found"
    assert (await world.error("member.revoke", **key, contact_id="c1"))["code"] == "not_found"
    other = await world.portal({"mode": "open"}, name="globex", domain="help.globex.com")
    assert (await world.error("member.invite", **other, contact_id="c1"))["code"] == "not_found", (
        "a contact of another account is unknown here"
    )
    foreign = {"account_id": other["account_id"], "portal_id": key["portal_id"]}
    assert (await world.error("member.list", **foreign))["code"] == "not_found"

    await world.ok("member.invite", **key, contact_id="c1")
    await world.ok("member.invite", **key, contact_id="c1")
    assert await world.ok("member.revoke", **key, contact_id="c1") == {}
    assert await world.ok("member.revoke", **key, contact_id="c1") == {}
    [member] = (await world.ok("member.list", **key))["items"]
    assert member["status"] == "revoked" and member["revoked_at"]
    await world.ok("member.invite", **key, contact_id="c1")
    assert await types(world, "c1", 4) == [
        "member.invited",
        "member.invited",
        "member.revoked",
        "member.invited",
    ]
    [member] = (await world.ok("member.list", **key))["items"]
    assert member["status"] == "invited"


async def test_a_poison_crm_message_is_parked_and_the_stream_goes_on(world):
    key = await world.portal(invite_mode({"name": "S", "contact_ids": ["c9"]}, delay=0))
    aid = key["account_id"]
    subject = world.ns.crm_subject(aid, "contact.upserted")
    await world.js.publish(subject, b"{not json", headers={"Nats-Msg-Id": "poison-1"})
    await world.contact(aid, "c9", "nine@example.com")
    assert await types(world, "c9", 1) == ["member.invited"]
    dlq_subject = world.ns.dlq_subject("portal-config", "unparseable")
    dlq = await world.js.get_last_msg(world.ns.dlq_stream, dlq_subject)
    assert dlq.data == b"{not json"
    assert dlq.headers["X-Dlq-Source-Stream"] == world.ns.crm_stream


async def test_last_writer_wins_whatever_the_delivery_order(world):
    key = await world.portal(invite_mode({"name": "Gold", "contact_filters": GOLD}, delay=60))
    aid = key["account_id"]
    await world.contact(aid, "c1", "one@example.com", tier="gold")
    world.clock.advance(seconds=-30)
    stale = await world.crm(
        aid,
        "contact.upserted",
        {"contact_id": "c1", "email": "one@example.com", "properties": {"tier": "silver"}},
    )
    world.clock.advance(seconds=30)
    await world.contact(aid, "c2", "two@example.com")
    async with world.running.pool.connection() as conn:
        cur = await conn.execute(
            "SELECT properties->>'tier', event_id <> %s FROM contacts WHERE contact_id = 'c1'",
            (stale,),
        )
        assert await cur.fetchone() == ("gold", True)
    assert await types(world, "c1", 1) == ["member.invited"]


async def test_a_standby_replica_takes_over_from_the_stored_position(world):
    from portal_config.bootstrap import start

    key = await world.portal(invite_mode({"name": "S", "contact_ids": ["c1", "c2"]}, delay=0))
    aid = key["account_id"]
    await world.contact(aid, "c1", "one@example.com")
    standby = await start(world.running.settings, clock=world.clock)
    await world.running.stop()
    world.running = standby
    await world.contact(aid, "c2", "two@example.com")
    await world.contact(aid, "c1", "one@example.com", note="changed")
    assert await types(world, "c1", 1) == ["member.invited"]
    assert await types(world, "c2", 1) == ["member.invited"]
    async with standby.pool.connection() as conn:
        cur = await conn.execute("SELECT count(*) FROM contacts")
        assert await cur.fetchone() == (2,)


async def test_a_burst_of_changes_keeps_the_newest_state_of_each_contact(world):
    """Events published faster than they are consumed arrive in shared batches; newer events
    published first and older ones after must not win, and a contact is evaluated for what it
    is in the end."""
    key = await world.portal(invite_mode({"name": "Gold", "contact_filters": GOLD}, delay=60))
    aid = key["account_id"]
    world.clock.advance(seconds=60)
    for n in range(20):
        props = {"tier": "gold" if n % 2 else "silver"}
        data = {"contact_id": f"b{n}", "email": f"b{n}@example.com", "properties": props}
        await world.crm(aid, "contact.upserted", data)
    await world.crm(aid, "contact.deleted", {"contact_id": "b3"})
    world.clock.advance(seconds=-30)
    for n in range(20):
        stale = {"contact_id": f"b{n}", "email": f"old{n}@example.com"}
        await world.crm(aid, "contact.upserted", {**stale, "properties": {"tier": "gold"}})
    world.clock.advance(seconds=30)
    await world.contact(aid, "last", "last@example.com")

    async with world.running.pool.connection() as conn:
        cur = await conn.execute(
            "SELECT contact_id, email, properties->>'tier', deleted FROM contacts"
            " WHERE contact_id LIKE 'b%%' ORDER BY contact_id"
        )
        rows = {row[0]: row[1:] for row in await cur.fetchall()}
    assert len(rows) == 20
    assert rows.pop("b3")[2] is True
    for n in sorted(set(range(20)) - {3}):
        assert rows[f"b{n}"] == (f"b{n}@example.com", "gold" if n % 2 else "silver", False)
    last_event = {e["data"]["contact_id"]: e["type"] for e in await world.member_events()}
    invited = {contact for contact, kind in last_event.items() if kind == "member.invited"}
    assert invited == {f"b{n}" for n in range(1, 20, 2) if n != 3}
