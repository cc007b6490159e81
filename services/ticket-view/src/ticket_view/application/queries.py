"""The read use cases: which tickets a contact may see in a portal, one ticket with its
public thread, why a ticket is visible, and contact look-ups.

Business rules:
- Everything is looked up within the request's account; the portal must exist in that
  account, otherwise `not_found`.
- A contact unknown to the read model (or deleted) sees no tickets.
- A ticket that is not visible is `not_found`, exactly like one that does not exist.
- Pages are keyset-paginated on (sort key, ticket id); the cursor is opaque and bound to its
  sort, so concurrent changes never duplicate or skip unchanged tickets.
- A list reflects every visibility change projected before it (mode, filters, associations,
  primary company, deletions): the portal's rules may be remembered, but the read model
  checks them against its current versions in the same statement as the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from portal_contracts.ticket_view_rpc import (
    FindContactByEmail,
    GetContact,
    GetTicket,
    GetTicketState,
    ListTickets,
    PreviewTickets,
)

from ..domain import cursor as cursors
from ..domain.visibility import (
    ContactFacts,
    PortalRules,
    Reach,
    display_properties,
    reach_of,
    reason_of,
    status_label,
)


class NotFound(Exception):
    pass


class InvalidInput(Exception):
    pass


@dataclass(frozen=True, slots=True)
class TicketRow:
    ticket_id: str
    subject: str
    status: str
    stage: str
    pipeline: str
    priority: str | None
    created_at: datetime
    updated_at: datetime
    properties: dict[str, Any]
    own: bool


@dataclass(frozen=True, slots=True)
class MessageRow:
    message_id: str
    author_type: str
    author_name: str | None
    body: str
    created_at: datetime


@dataclass(frozen=True)
class TicketQuery:
    account_id: str
    reach: Reach
    pipelines: list[str] | None
    status: str | None
    q: str | None
    sort_column: str
    descending: bool
    after: tuple[datetime, str] | None
    limit: int
    properties: list[str] | None = None
    """The display properties to read; None reads none."""


class ReadModel(Protocol):
    async def context(
        self, account_id: str, portal_id: str, contact_id: str
    ) -> tuple[PortalRules | None, ContactFacts | None]: ...
    def remembered_rules(self, account_id: str, portal_id: str) -> PortalRules | None: ...
    async def page(
        self, rules: PortalRules, query: TicketQuery
    ) -> tuple[Reach | None, list[TicketRow]] | None: ...
    async def contact(self, account_id: str, contact_id: str) -> ContactFacts | None: ...
    async def contact_by_email(self, account_id: str, email: str) -> ContactFacts | None: ...
    async def visible_tickets(self, query: TicketQuery) -> list[TicketRow]: ...
    async def visible_ticket(
        self, account_id: str, reach: Reach, pipelines: list[str] | None, ticket_id: str
    ) -> TicketRow | None: ...
    async def public_messages(self, account_id: str, ticket_id: str) -> list[MessageRow]: ...
    async def ticket_state(self, account_id: str, ticket_id: str) -> dict[str, Any] | None: ...


async def _context(
    model: ReadModel, account_id: str, portal_id: str, contact_id: str
) -> tuple[PortalRules, ContactFacts | None]:
    portal, contact = await model.context(account_id, portal_id, contact_id)
    if portal is None:
        raise NotFound("portal not found")
    return portal, contact


def _ticket(portal: PortalRules, row: TicketRow) -> dict[str, Any]:
    return {
        "id": row.ticket_id,
        "subject": row.subject,
        "status": row.status,
        "stage": row.stage,
        "status_label": status_label(portal.display, row.stage),
        "pipeline": row.pipeline,
        "priority": row.priority,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "properties": display_properties(portal.display, row.properties),
        "scope": "own" if row.own else "company",
    }


def _list_query(
    request: ListTickets | PreviewTickets,
    portal: PortalRules,
    reach: Reach,
    after: tuple[datetime, str] | None,
) -> TicketQuery:
    return TicketQuery(
        account_id=request.account_id,
        reach=reach,
        pipelines=list(portal.display.pipelines) if portal.display.pipelines else None,
        status=None if request.status == "all" else request.status,
        q=request.q.strip() if request.q and request.q.strip() else None,
        sort_column=request.sort.lstrip("-"),
        descending=request.sort.startswith("-"),
        after=after,
        limit=request.limit + 1,
        properties=list(portal.display.properties) if portal.display.properties else None,
    )


async def _visible_rows(
    model: ReadModel, request: ListTickets | PreviewTickets, after: tuple[datetime, str] | None
) -> tuple[PortalRules, Reach | None, list[TicketRow]]:
    """One round trip when the portal's remembered rules are current and the reach needs no
    filter evaluation (`own`, `company`); else the context, then the page."""
    rules = model.remembered_rules(request.account_id, request.portal_id)
    if rules is not None and rules.mode in ("own", "company"):
        query = _list_query(request, rules, Reach(request.contact_id), after)
        found = await model.page(rules, query)
        if found is not None:
            return rules, found[0], found[1]
    portal, contact = await _context(
        model, request.account_id, request.portal_id, request.contact_id
    )
    if contact is None:
        return portal, None, []
    reach = reach_of(portal, contact)
    return portal, reach, await model.visible_tickets(_list_query(request, portal, reach, after))


async def list_tickets(model: ReadModel, request: ListTickets | PreviewTickets) -> dict[str, Any]:
    """→ {items, next_cursor}; preview items also carry their `reason`."""
    after = None
    if request.cursor:
        try:
            after = cursors.decode(request.cursor, request.sort)
        except cursors.InvalidCursor as exc:
            raise InvalidInput(str(exc)) from exc
    portal, reach, rows = await _visible_rows(model, request, after)
    if reach is None:
        return {"items": [], "next_cursor": None}
    page = rows[: request.limit]
    items = []
    for row in page:
        item = _ticket(portal, row)
        if isinstance(request, PreviewTickets):
            item["reason"] = reason_of(reach, row.own)
        items.append(item)
    next_cursor = None
    if len(rows) > request.limit:
        last = page[-1]
        sort_column = request.sort.lstrip("-")
        next_cursor = cursors.encode(request.sort, getattr(last, sort_column), last.ticket_id)
    return {"items": items, "next_cursor": next_cursor}


async def get_ticket(model: ReadModel, request: GetTicket) -> dict[str, Any]:
    """→ Ticket + public messages oldest first; `NotFound` when not visible."""
    portal, contact = await _context(
        model, request.account_id, request.portal_id, request.contact_id
    )
    if contact is None:
        raise NotFound("ticket not found")
    reach = reach_of(portal, contact)
    pipelines = list(portal.display.pipelines) if portal.display.pipelines else None
    row = await model.visible_ticket(request.account_id, reach, pipelines, request.ticket_id)
    if row is None:
        raise NotFound("ticket not found")
    ticket = _ticket(portal, row)
    messages = await model.public_messages(request.account_id, request.ticket_id)
    ticket["messages"] = [
        {
            "id": m.message_id,
            "author": {"type": m.author_type, "name": m.author_name},
            "body": m.body,
            "created_at": m.created_at,
        }
        for m in messages
    ]
    return ticket


async def get_ticket_state(model: ReadModel, request: GetTicketState) -> dict[str, Any]:
    """→ {ticket: TicketData} of a ticket the contact can see; `NotFound` otherwise."""
    portal, contact = await _context(
        model, request.account_id, request.portal_id, request.contact_id
    )
    if contact is None:
        raise NotFound("ticket not found")
    reach = reach_of(portal, contact)
    pipelines = list(portal.display.pipelines) if portal.display.pipelines else None
    if await model.visible_ticket(request.account_id, reach, pipelines, request.ticket_id) is None:
        raise NotFound("ticket not found")
    state = await model.ticket_state(request.account_id, request.ticket_id)
    if state is None:
        raise NotFound("ticket not found")
    return {"ticket": state}


def _summary(contact: ContactFacts) -> dict[str, Any]:
    return {
        "contact_id": contact.contact_id,
        "email": contact.email,
        "name": contact.name,
        "primary_company_id": contact.primary_company_id,
    }


async def find_contact_by_email(model: ReadModel, request: FindContactByEmail) -> dict[str, Any]:
    contact = await model.contact_by_email(request.account_id, request.email.strip())
    if contact is None:
        raise NotFound("contact not found")
    return _summary(contact)


async def get_contact(model: ReadModel, request: GetContact) -> dict[str, Any]:
    contact = await model.contact(request.account_id, request.contact_id)
    if contact is None:
        raise NotFound("contact not found")
    company = None
    if contact.company_known and contact.primary_company_id:
        company = {"id": contact.primary_company_id, "name": contact.company_name}
    return {
        **_summary(contact),
        "firstname": contact.firstname,
        "lastname": contact.lastname,
        "language": contact.language,
        "properties": contact.properties,
        "company": company,
    }
