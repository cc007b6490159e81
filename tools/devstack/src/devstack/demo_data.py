"""The demo CRM records: one company, three contacts, four tickets with their threads.

Event ids and timestamps are fixed, so sending them again changes nothing (duplicates).
Alice and Bob work at Acme (company visibility lets each see the other's Acme tickets);
Carol has no company and sees only her own ticket.
"""

from __future__ import annotations

from typing import Any

DEMO_HOST = "localhost"
DEMO_SLUG = "demo"


def demo_domain(port: int) -> str:
    """The connected domain of the demo portal: `Host` as a browser sends it, port included."""
    return f"{DEMO_HOST}:{port}"


DAY = "2026-01-05T"
T0 = f"{DAY}09:00:00Z"


def _event(event_id: str, event_type: str, data: dict[str, Any], at: str = T0) -> dict[str, Any]:
    return {"event_id": f"demo-{event_id}", "type": event_type, "occurred_at": at, "data": data}


def _ticket(ticket_id: str, subject: str, status: str, stage: str, inbox_id: str, at: str):
    return _event(
        f"{ticket_id}-upserted",
        "ticket.upserted",
        {
            "ticket_id": ticket_id,
            "subject": subject,
            "content": f"{subject}. Details as described by the customer.",
            "pipeline": "support",
            "stage": stage,
            "status": status,
            "priority": "medium",
            "inbox_id": inbox_id,
            "created_at": at,
            "updated_at": at,
            "properties": {"priority": "medium"},
        },
        at,
    )


def _message(ticket_id: str, n: int, author: dict[str, Any], body: str, public: bool, at: str):
    message_id = f"{ticket_id}-m{n}"
    return _event(
        f"{message_id}-added",
        "ticket.message_added",
        {
            "ticket_id": ticket_id,
            "message_id": message_id,
            "author": author,
            "body": body,
            "public": public,
            "created_at": at,
        },
        at,
    )


def _link(ticket_id: str, kind: str, other_id: str) -> dict[str, Any]:
    return _event(
        f"{ticket_id}-{other_id}",
        f"ticket.{kind}_associated",
        {"ticket_id": ticket_id, f"{kind}_id": other_id},
    )


def crm_events(inbox_id: str) -> list[dict[str, Any]]:
    agent = {"type": "agent", "id": "agent-1", "name": "Sam from Support"}
    alice = {"type": "contact", "id": "demo-alice", "name": "Alice Example"}
    return [
        _event(
            "acme-upserted",
            "company.upserted",
            {"company_id": "demo-acme", "name": "Acme Inc.", "domain": "acme.example"},
        ),
        _event(
            "alice-upserted",
            "contact.upserted",
            {
                "contact_id": "demo-alice",
                "email": "alice@acme.example",
                "firstname": "Alice",
                "lastname": "Example",
                "primary_company_id": "demo-acme",
                "language": "en",
            },
        ),
        _event(
            "bob-upserted",
            "contact.upserted",
            {
                "contact_id": "demo-bob",
                "email": "bob@acme.example",
                "firstname": "Bob",
                "lastname": "Example",
                "primary_company_id": "demo-acme",
            },
        ),
        _event(
            "carol-upserted",
            "contact.upserted",
            {"contact_id": "demo-carol", "email": "carol@example.org", "firstname": "Carol"},
        ),
        _ticket("demo-t1", "Cannot export invoices", "open", "waiting_on_us", inbox_id, T0),
        _ticket("demo-t2", "Add a second admin", "open", "new", inbox_id, "2026-01-06T10:00:00Z"),
        _ticket("demo-t3", "Password reset email", "closed", "closed", inbox_id, T0),
        _ticket("demo-t4", "Shipping address change", "open", "new", inbox_id, T0),
        _link("demo-t1", "contact", "demo-alice"),
        _link("demo-t1", "company", "demo-acme"),
        _link("demo-t2", "contact", "demo-bob"),
        _link("demo-t2", "company", "demo-acme"),
        _link("demo-t3", "contact", "demo-alice"),
        _link("demo-t4", "contact", "demo-carol"),
        _message("demo-t1", 1, alice, "The export button does nothing.", True, f"{DAY}09:01:00Z"),
        _message("demo-t1", 2, agent, "Reproduced; escalating.", False, f"{DAY}09:30:00Z"),
        _message("demo-t1", 3, agent, "We will reply today.", True, f"{DAY}09:31:00Z"),
    ]
