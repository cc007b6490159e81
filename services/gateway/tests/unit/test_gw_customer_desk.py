"""Customer writes: what is published, object-level checks, and the read-your-writes wait."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from gateway.application.customer_tickets import CloseNotAllowed, CustomerDesk, NotVisible
from gateway.domain.customer_events import Customer
from gateway.domain.support_form import TicketDraft
from portal_contracts.crm import CrmEvent
from portal_contracts.portal import PortalView

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
PORTAL = PortalView.model_validate(
    {
        "id": "p1",
        "title": "Help",
        "status": "active",
        "version": 5,
        "default_inbox_id": "inbox1",
        "ticket_display": {
            "pipelines": ["helpdesk", "other"],
            "status_labels": {"new": "Received"},
            "properties": ["product"],
            "allow_close": True,
        },
        "consent_notice": {"enabled": False},
        "support_form": {"enabled": True, "fields": []},
        "setup": {"missing": []},
        "created_at": NOW,
        "updated_at": NOW,
    }
)
ANN = Customer("c1", "Ann")


class Reader:
    """Shows a ticket only after `lag` reads (ticket-view catching up), or never."""

    def __init__(self, tickets: dict[str, dict[str, Any]], lag: int = 0) -> None:
        self.tickets = tickets
        self.lag = lag
        self.reads = 0

    async def get(self, ticket_id: str) -> dict[str, Any] | None:
        self.reads += 1
        if self.reads <= self.lag:
            return None
        return self.tickets.get(ticket_id)

    async def state(self, ticket_id: str) -> dict[str, Any] | None:
        if ticket_id not in self.tickets:
            return None
        return {**STATE, "ticket_id": ticket_id}


STATE: dict[str, Any] = {
    "subject": "Printer",
    "content": "It smokes.",
    "pipeline": "support",
    "stage": "new",
    "status": "open",
    "priority": "high",
    "inbox_id": "in-1",
    "created_at": "2026-11-01T09:00:00Z",
    "updated_at": "2026-11-02T09:00:00Z",
    "properties": {"product": "P-3000", "internal_score": 7},
}


def desk(published: list[tuple[str, list[CrmEvent]]], wait: float = 1.0) -> CustomerDesk:
    ids = (f"id{n}" for n in itertools.count(1))

    async def publish(account_id: str, events: Sequence[CrmEvent]) -> None:
        published.append((account_id, list(events)))

    return CustomerDesk(publish, lambda: NOW, lambda: next(ids), wait, poll_seconds=0.001)


async def test_a_new_ticket_is_three_events_and_answered_once_visible() -> None:
    published: list[tuple[str, list[CrmEvent]]] = []
    reader = Reader({}, lag=3)
    draft = TicketDraft("Help", "It broke", {"product": "A", "hidden": "x"})
    seen = {"id1": {"id": "id1", "messages": [{"id": "id4"}], "from": "ticket-view"}}
    reader.tickets = seen
    result = await desk(published).submit("acc1", PORTAL, ANN, draft, reader)
    assert result["from"] == "ticket-view" and reader.reads == 4
    account, events = published[0]
    assert account == "acc1"
    assert [e.type for e in events] == [
        "ticket.upserted",
        "ticket.contact_associated",
        "ticket.message_added",
    ]
    ticket = events[0].data.model_dump()
    assert (ticket["pipeline"], ticket["stage"], ticket["status"], ticket["inbox_id"]) == (
        "helpdesk",
        "new",
        "open",
        "inbox1",
    )
    assert ticket["content"] == "It broke"
    assert events[2].data.model_dump()["author"] == {"type": "contact", "id": "c1", "name": "Ann"}


async def test_past_the_wait_the_answer_is_what_was_published() -> None:
    published: list[tuple[str, list[CrmEvent]]] = []
    draft = TicketDraft("Help", "It broke", {"product": "A", "hidden": "x"})
    result = await desk(published, wait=0.02).submit("acc1", PORTAL, ANN, draft, Reader({}))
    assert result["status_label"] == "Received"
    assert result["properties"] == {"product": "A"}
    assert [m["body"] for m in result["messages"]] == ["It broke"]


async def test_replies_and_closes_need_a_visible_ticket() -> None:
    published: list[tuple[str, list[CrmEvent]]] = []
    with pytest.raises(NotVisible):
        await desk(published).reply("acc1", ANN, "t9", "hi", Reader({}))
    with pytest.raises(NotVisible):
        await desk(published).close("acc1", PORTAL, "t9", Reader({}))
    no_close = PORTAL.model_copy(
        update={"ticket_display": PORTAL.ticket_display.model_copy(update={"allow_close": False})}
    )
    with pytest.raises(CloseNotAllowed):
        await desk(published).close("acc1", no_close, "t1", Reader({"t1": {"id": "t1"}}))
    assert published == []


async def test_closing_a_closed_ticket_publishes_nothing() -> None:
    published: list[tuple[str, list[CrmEvent]]] = []
    ticket = {"id": "t1", "status": "closed"}
    assert await desk(published).close("acc1", PORTAL, "t1", Reader({"t1": ticket})) == ticket
    assert published == []


async def test_closing_restates_the_whole_ticket_with_status_closed() -> None:
    published: list[tuple[str, list[CrmEvent]]] = []
    open_ticket = {"id": "t1", "status": "open"}
    await desk(published, wait=0.01).close("acc1", PORTAL, "t1", Reader({"t1": open_ticket}))
    [(account_id, [event])] = published
    assert account_id == "acc1" and event.type == "ticket.upserted"
    data = event.data.model_dump(mode="json")
    assert data["status"] == "closed"
    assert data["updated_at"] == NOW.isoformat().replace("+00:00", "Z")
    unchanged = {k: v for k, v in STATE.items() if k not in ("status", "updated_at", "created_at")}
    assert {k: data[k] for k in unchanged} == unchanged
