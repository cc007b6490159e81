"""Request/reply messages served by ticket-view (subject `<ns>.rpc.ticket-view.<op>`).

Every request names the account it acts for; ticket-view filters by account first and never
mixes ids of two accounts. Replies are `RpcReply` whose `result` has the shape named in each
docstring. A ticket the contact may not see is `not_found`, indistinguishable from a ticket
that does not exist; an unknown portal (or one of another account) is `not_found` too.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import Frozen, Identifier, JsonScalar, UtcDatetime
from .crm import TicketData

SERVICE = "ticket-view"

StatusFilter = Literal["open", "closed", "all"]
SortKey = Literal["created_at", "-created_at", "updated_at", "-updated_at"]
Scope = Literal["own", "company"]
ReasonKind = Literal["own_association", "primary_company"]

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class _ListParams(Frozen):
    account_id: Identifier
    portal_id: Identifier
    contact_id: Identifier
    status: StatusFilter = "all"
    q: Annotated[str, Field(max_length=200)] | None = None
    """Case-insensitive substring of the subject, the content or a public message body."""
    sort: SortKey = "-updated_at"
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT
    cursor: Annotated[str, Field(max_length=1000)] | None = None
    """Opaque `next_cursor` of the previous page; only valid with the same sort."""


class ListTickets(_ListParams):
    """→ TicketPage: the tickets the contact may see in this portal."""

    op: Literal["tickets.list"] = "tickets.list"


class PreviewTickets(_ListParams):
    """→ PreviewPage: like `tickets.list`, each item with the reason it is visible."""

    op: Literal["tickets.preview"] = "tickets.preview"


class GetTicket(Frozen):
    """→ TicketDetail; `not_found` when the ticket does not exist or is not visible."""

    op: Literal["tickets.get"] = "tickets.get"
    account_id: Identifier
    portal_id: Identifier
    contact_id: Identifier
    ticket_id: Identifier


class GetTicketState(Frozen):
    """→ TicketState: the ticket's whole CRM state, for a contact who can see it (else
    `not_found`). A write that restates the ticket (a customer closing it) starts from this,
    so that nothing the contact does not see (content, inbox, hidden properties) is lost."""

    op: Literal["tickets.state"] = "tickets.state"
    account_id: Identifier
    portal_id: Identifier
    contact_id: Identifier
    ticket_id: Identifier


class FindContactByEmail(Frozen):
    """→ ContactSummary of the (non-deleted) contact with that email, case-insensitive;
    `not_found` otherwise. When several contacts share an email the latest changed wins."""

    op: Literal["contacts.find_by_email"] = "contacts.find_by_email"
    account_id: Identifier
    email: Annotated[str, Field(min_length=1, max_length=254)]


class GetContact(Frozen):
    """→ ContactDetail; `not_found` when unknown or deleted."""

    op: Literal["contacts.get"] = "contacts.get"
    account_id: Identifier
    contact_id: Identifier


class Ping(Frozen):
    """→ {"status": "ok"} when the read model's database is reachable."""

    op: Literal["ping"] = "ping"


TicketViewRequest = Annotated[
    ListTickets
    | PreviewTickets
    | GetTicket
    | GetTicketState
    | FindContactByEmail
    | GetContact
    | Ping,
    Field(discriminator="op"),
]


# --- results -------------------------------------------------------------------------------


class Ticket(Frozen):
    """API.md's Ticket plus `scope`: `own` when associated with the contact, else `company`."""

    id: str
    subject: str
    status: Literal["open", "closed"]
    stage: str
    status_label: str
    """The portal's label for the stage; the stage itself when none is configured."""
    pipeline: str
    priority: str | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime
    properties: dict[str, JsonScalar]
    """Only the portal's configured display properties that the ticket has."""
    scope: Scope


class TicketPage(Frozen):
    items: list[Ticket]
    next_cursor: str | None = None


class VisibilityReason(Frozen):
    kind: ReasonKind
    company_id: str | None = None
    filter_group: int | None = None
    """In mode `company_for_some`: index of the first contact filter group that matched."""


class PreviewItem(Ticket):
    reason: VisibilityReason


class PreviewPage(Frozen):
    items: list[PreviewItem]
    next_cursor: str | None = None


class MessageAuthorView(Frozen):
    type: Literal["agent", "contact"]
    name: str | None = None


class MessageView(Frozen):
    id: str
    author: MessageAuthorView
    body: str
    created_at: UtcDatetime


class TicketDetail(Ticket):
    messages: list[MessageView]
    """Public messages only, oldest first."""


class ContactSummary(Frozen):
    contact_id: str
    email: str
    name: str | None = None
    primary_company_id: str | None = None


class CompanySummary(Frozen):
    id: str
    name: str


class ContactDetail(ContactSummary):
    firstname: str | None = None
    lastname: str | None = None
    language: str | None = None
    properties: dict[str, JsonScalar] = {}
    company: CompanySummary | None = None
    """The primary company when it is known and not deleted."""


class TicketState(Frozen):
    ticket: TicketData
