"""What a customer's writes become: CRM events, as if the CRM had recorded them.

Business rules:
- A new ticket is open, in the portal's default inbox, in the first pipeline the portal
  displays (`ticket_display.pipelines[0]`, else `support`) at stage `new`; the form's fields
  are its properties and the description its content. It is associated with the contact and
  its description is the first public message, written by the contact.
- A reply is a public message by the contact.
- Closing re-states the ticket as known to the customer with status `closed`.
- Every event has a fresh id; `occurred_at` is the moment of the customer's action, so the
  CRM's own later changes win.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portal_contracts.crm import (
    MessageAuthor,
    MessageData,
    TicketContactAssociated,
    TicketContactLink,
    TicketData,
    TicketMessageAdded,
    TicketUpserted,
)
from portal_contracts.portal import PortalView

from .support_form import TicketDraft

DEFAULT_PIPELINE = "support"
NEW_STAGE = "new"

NewId = Callable[[], str]


@dataclass(frozen=True)
class Customer:
    contact_id: str
    name: str | None


def pipeline_for(portal: PortalView) -> str:
    pipelines = portal.ticket_display.pipelines
    return pipelines[0] if pipelines else DEFAULT_PIPELINE


def _author(customer: Customer) -> MessageAuthor:
    name = customer.name[:200] if customer.name else None
    return MessageAuthor(type="contact", id=customer.contact_id, name=name)


def message_added(
    ticket_id: str, message_id: str, customer: Customer, body: str, now: datetime, new_id: NewId
) -> TicketMessageAdded:
    data = MessageData(
        ticket_id=ticket_id,
        message_id=message_id,
        author=_author(customer),
        body=body,
        public=True,
        created_at=now,
    )
    return TicketMessageAdded(
        event_id=new_id(), occurred_at=now, type="ticket.message_added", data=data
    )


def new_ticket(
    portal: PortalView,
    customer: Customer,
    draft: TicketDraft,
    now: datetime,
    new_id: NewId,
) -> tuple[str, list[TicketUpserted | TicketContactAssociated | TicketMessageAdded]]:
    """→ (ticket id, the three events in publishing order)."""
    ticket_id = new_id()
    ticket = TicketData(
        ticket_id=ticket_id,
        subject=draft.subject,
        content=draft.description,
        pipeline=pipeline_for(portal),
        stage=NEW_STAGE,
        status="open",
        inbox_id=portal.default_inbox_id,
        created_at=now,
        updated_at=now,
        properties=dict(draft.properties),
    )
    link = TicketContactLink(ticket_id=ticket_id, contact_id=customer.contact_id)
    return ticket_id, [
        TicketUpserted(event_id=new_id(), occurred_at=now, type="ticket.upserted", data=ticket),
        TicketContactAssociated(
            event_id=new_id(), occurred_at=now, type="ticket.contact_associated", data=link
        ),
        message_added(ticket_id, new_id(), customer, draft.description, now, new_id),
    ]


def closed(state: dict[str, Any], now: datetime, new_id: NewId) -> TicketUpserted:
    """`state` is the ticket's whole CRM state (ticket-view `tickets.state`): the upsert
    restates all of it, so only the status and the update time change."""
    data = TicketData.model_validate({**state, "status": "closed", "updated_at": now})
    return TicketUpserted(event_id=new_id(), occurred_at=now, type="ticket.upserted", data=data)
