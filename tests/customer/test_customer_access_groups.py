"""Invite mode with a dynamic access group, across the real services: a contact who comes to
match the group's filters gets the registration email once the portal's delay has passed; a
contact who leaves the group before then gets nothing."""

from __future__ import annotations

import asyncio
from typing import Any

from devstack.testing import eventually

DELAY = 5
GOLD = {
    "name": "gold",
    "contact_filters": [[{"property": "tier", "operator": "eq", "value": "gold"}]],
}


async def test_joining_sends_after_the_delay_and_leaving_before_it_sends_nothing(
    stack: Any,
) -> None:
    admin, crm = stack.a, stack.a.crm
    pid = await admin.portal(
        "groups.acme.test",
        access={
            "mode": "invite",
            "access_groups": [GOLD],
            "registration_email_delay_seconds": DELAY,
        },
    )
    silver = {"tier": "silver"}
    gold = {"tier": "gold"}
    await admin.ingest(
        crm.contact("g1", "gina@example.com", properties=silver),
        crm.contact("g2", "gus@example.com", properties=silver),
    )
    await admin.ingest(
        crm.contact("g1", "gina@example.com", properties=gold),
        crm.contact("g2", "gus@example.com", properties=gold),
    )

    async def both_invited() -> bool:
        members = await admin.ok("GET", f"/api/v1/portals/{pid}/members")
        return {(m["contact_id"], m["status"]) for m in members["items"]} == {
            ("g1", "invited"),
            ("g2", "invited"),
        }

    await eventually(both_invited, timeout=10)
    assert stack.links() == [], "the email left before the portal's delay"
    await admin.ingest(crm.contact("g2", "gus@example.com", properties=silver))

    link = await stack.link_to("gina@example.com")
    assert link.startswith("https://groups.acme.test/help/activate?token=")
    await asyncio.sleep(1.0)
    assert [to for to, _ in stack.links()] == ["gina@example.com"]
