"""A realistic, deterministic CRM data set for the ticket-view benchmark.

At `scale=1`: 10k companies, 100k contacts, 1M tickets, ~1.5M associations, ~1M messages,
plus one "big" company with 2,000 tickets and a contact in it (the latency target).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

ACCOUNT = "bench"
PORTAL = "bench-portal"
BIG_COMPANY = "co-big"
BIG_CONTACT = "c-big"
BIG_TICKETS = 2000
T0 = datetime(2025, 1, 1, tzinfo=UTC)
WORDS = [
    "printer",
    "login",
    "invoice",
    "refund",
    "password",
    "export",
    "crash",
    "slow",
    "billing",
    "upgrade",
]


def sizes(scale: float) -> dict[str, int]:
    return {
        "companies": max(10, int(10_000 * scale)),
        "contacts": max(100, int(100_000 * scale)),
        "tickets": max(1000, int(1_000_000 * scale)),
        "messages": max(1000, int(1_000_000 * scale)),
    }


def events(scale: float, seed: int = 42) -> Iterator[tuple[str, bytes]]:
    """(event type, CrmRecord JSON) in a plausible CRM order."""
    rng = random.Random(seed)
    n = sizes(scale)
    tick = 0

    def record(type_: str, data: dict) -> tuple[str, bytes]:
        nonlocal tick
        tick += 1
        event = {
            "event_id": f"b{tick}",
            "type": type_,
            "occurred_at": (T0 + timedelta(milliseconds=tick)).isoformat(),
            "data": data,
        }
        return type_, json.dumps({"account_id": ACCOUNT, "event": event}).encode()

    for i in range(n["companies"]):
        yield record("company.upserted", {"company_id": f"co{i}", "name": f"Company {i}"})
    yield record("company.upserted", {"company_id": BIG_COMPANY, "name": "Big"})
    company_of = {}
    for i in range(n["contacts"]):
        company = f"co{rng.randrange(n['companies'])}" if rng.random() < 0.9 else None
        company_of[i] = company
        data = {
            "contact_id": f"c{i}",
            "email": f"contact{i}@example.com",
            "firstname": "Contact",
            "lastname": str(i),
            "properties": {"tier": rng.choice(["gold", "silver", "bronze"])},
        }
        if company:
            data["primary_company_id"] = company
        yield record("contact.upserted", data)
    yield record(
        "contact.upserted",
        {"contact_id": BIG_CONTACT, "email": "big@example.com", "primary_company_id": BIG_COMPANY},
    )
    for i in range(n["tickets"]):
        created = T0 + timedelta(seconds=i * 7)
        yield record(
            "ticket.upserted",
            {
                "ticket_id": f"t{i}",
                "subject": f"{rng.choice(WORDS)} issue {i}",
                "content": f"Customer reports {rng.choice(WORDS)} {rng.choice(WORDS)} problem.",
                "pipeline": "support",
                "stage": rng.choice(["new", "waiting", "solved"]),
                "status": rng.choice(["open", "open", "closed"]),
                "priority": rng.choice(["low", "medium", "high"]),
                "created_at": created.isoformat(),
                "updated_at": (created + timedelta(hours=rng.randrange(1, 500))).isoformat(),
                "properties": {"sla": rng.choice(["gold", "basic"])},
            },
        )
        if i < BIG_TICKETS:
            yield record(
                "ticket.company_associated", {"ticket_id": f"t{i}", "company_id": BIG_COMPANY}
            )
            if i % 2 == 0:
                yield record(
                    "ticket.contact_associated", {"ticket_id": f"t{i}", "contact_id": BIG_CONTACT}
                )
            continue
        contact = rng.randrange(n["contacts"])
        yield record(
            "ticket.contact_associated", {"ticket_id": f"t{i}", "contact_id": f"c{contact}"}
        )
        if company_of[contact] and rng.random() < 0.55:
            yield record(
                "ticket.company_associated",
                {"ticket_id": f"t{i}", "company_id": company_of[contact]},
            )
    for i in range(n["messages"]):
        ticket = rng.randrange(n["tickets"])
        yield record(
            "ticket.message_added",
            {
                "ticket_id": f"t{ticket}",
                "message_id": f"m{i}",
                "author": {"type": rng.choice(["agent", "contact"]), "name": "Someone"},
                "body": f"About the {rng.choice(WORDS)}: please try again ({i}).",
                "public": rng.random() < 0.8,
                "created_at": (T0 + timedelta(seconds=i * 3)).isoformat(),
            },
        )


def portal_events() -> list[dict]:
    base = {"account_id": ACCOUNT, "portal_id": PORTAL, "occurred_at": T0.isoformat()}
    return [
        {**base, "event_id": "bp1", "version": 1, "type": "portal.created", "data": {"title": "B"}},
        {
            **base,
            "event_id": "bp2",
            "version": 2,
            "type": "portal.tickets_configured",
            "data": {"default_inbox_id": "i1", "visibility": {"mode": "company"}},
        },
        {
            **base,
            "event_id": "bp3",
            "version": 3,
            "type": "portal.settings_changed",
            "data": {"ticket_display": {"properties": ["sla"], "status_labels": {"new": "Open"}}},
        },
    ]
