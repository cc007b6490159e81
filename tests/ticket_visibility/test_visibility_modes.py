"""Who sees which ticket, and why: CRM events in through the gateway's ingest, portal
configuration through the admin API, answers through the admin preview."""

from __future__ import annotations

from typing import Any

OWN = {"kind": "own_association"}


def company(co: str, group: int | None = None) -> dict[str, Any]:
    reason: dict[str, Any] = {"kind": "primary_company", "company_id": co}
    if group is not None:
        reason["filter_group"] = group
    return reason


GOLD_ONLY = {
    "mode": "company_for_some",
    "contact_filters": [[{"property": "tier", "operator": "eq", "value": "gold"}]],
}


async def seed(admin, crm) -> None:
    """co1 with alice (gold) and bob (silver); t1 alice's, t2 bob's, t3 the company's,
    t4 both alice's and the company's."""
    await admin.ingest(
        crm.company("co1"),
        crm.contact("alice", "co1", tier="gold"),
        crm.contact("bob", "co1", tier="silver"),
        *(crm.ticket(t, day=n) for n, t in enumerate(["t1", "t2", "t3", "t4"], 1)),
        crm.link("t1", contact="alice"),
        crm.link("t2", contact="bob"),
        crm.link("t3", company="co1"),
        crm.link("t4", contact="alice"),
        crm.link("t4", company="co1"),
    )


async def test_own_company_and_company_for_some_with_reasons_and_mode_switches(stack, crm):
    a = stack.a
    pid = await a.portal({"mode": "own"}, "help.acme.test")
    await seed(a, crm)
    await a.sees(pid, "alice", {"t1": OWN, "t4": OWN})
    await a.sees(pid, "bob", {"t2": OWN})

    await a.set_visibility(pid, {"mode": "company"})
    await a.sees(pid, "alice", {"t1": OWN, "t3": company("co1"), "t4": OWN})
    await a.sees(pid, "bob", {"t2": OWN, "t3": company("co1"), "t4": company("co1")})

    await a.set_visibility(pid, GOLD_ONLY)
    await a.sees(pid, "alice", {"t1": OWN, "t3": company("co1", 0), "t4": OWN})
    await a.sees(pid, "bob", {"t2": OWN})

    await a.set_visibility(pid, {"mode": "own"})
    await a.sees(pid, "alice", {"t1": OWN, "t4": OWN})


async def test_crm_changes_show_in_the_next_preview(stack, crm):
    a = stack.a
    pid = await a.portal({"mode": "company"}, "help.acme.test")
    await seed(a, crm)
    await a.ingest(crm.company("co2"), crm.ticket("t5"), crm.link("t5", company="co2"))
    await a.sees(pid, "alice", {"t1": OWN, "t3": company("co1"), "t4": OWN})

    await a.ingest(crm.ticket("t6"), crm.link("t6", company="co1"))
    await a.sees(pid, "alice", {"t1": OWN, "t3": company("co1"), "t4": OWN, "t6": company("co1")})

    await a.ingest(crm.unlink("t3", company="co1"), crm.unlink("t4", contact="alice"))
    await a.sees(pid, "alice", {"t1": OWN, "t4": company("co1"), "t6": company("co1")})

    await a.ingest(crm.contact("alice", "co2", tier="gold"))
    await a.sees(pid, "alice", {"t1": OWN, "t5": company("co2")})

    await a.ingest(crm.event("ticket.deleted", ticket_id="t1"))
    await a.sees(pid, "alice", {"t5": company("co2")})

    await a.ingest(crm.link("t1", contact="alice"))
    await a.sees(pid, "alice", {"t5": company("co2")})


async def test_a_contact_property_change_moves_the_contact_between_filter_groups(stack, crm):
    a = stack.a
    pid = await a.portal(GOLD_ONLY, "help.acme.test")
    await seed(a, crm)
    await a.sees(pid, "bob", {"t2": OWN})

    await a.ingest(crm.contact("bob", "co1", tier="gold"))
    await a.sees(pid, "bob", {"t2": OWN, "t3": company("co1", 0), "t4": company("co1", 0)})

    await a.ingest(crm.contact("bob", "co1", tier="bronze"))
    await a.sees(pid, "bob", {"t2": OWN})
