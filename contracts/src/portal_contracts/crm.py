"""CRM integration events (API.md, CrmEvent): full state of one entity or one association."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from .base import Frozen, Identifier, LongText, Properties, UtcDatetime

Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=254, pattern=r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$"
    ),
]
Name = Annotated[str, StringConstraints(max_length=200)]


class ContactData(Frozen):
    contact_id: Identifier
    email: Email
    firstname: Name | None = None
    lastname: Name | None = None
    primary_company_id: Identifier | None = None
    language: Annotated[str, StringConstraints(max_length=35)] | None = None
    properties: Properties = {}


class ContactRef(Frozen):
    contact_id: Identifier


class CompanyData(Frozen):
    company_id: Identifier
    name: Name
    domain: Annotated[str, StringConstraints(max_length=253)] | None = None
    properties: Properties = {}


class CompanyRef(Frozen):
    company_id: Identifier


class TicketData(Frozen):
    ticket_id: Identifier
    subject: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    content: LongText | None = None
    pipeline: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    stage: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    status: Literal["open", "closed"]
    priority: Annotated[str, StringConstraints(max_length=50)] | None = None
    inbox_id: Identifier | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime | None = None
    properties: Properties = {}


class TicketRef(Frozen):
    ticket_id: Identifier


class TicketContactLink(Frozen):
    ticket_id: Identifier
    contact_id: Identifier


class TicketCompanyLink(Frozen):
    ticket_id: Identifier
    company_id: Identifier


class MessageAuthor(Frozen):
    type: Literal["agent", "contact"]
    id: Identifier | None = None
    name: Name | None = None


class MessageData(Frozen):
    ticket_id: Identifier
    message_id: Identifier
    author: MessageAuthor
    body: Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
    public: bool
    created_at: UtcDatetime


class _CrmEventBase(Frozen):
    event_id: Identifier
    occurred_at: UtcDatetime
    schema_version: Literal[1] = 1


class ContactUpserted(_CrmEventBase):
    type: Literal["contact.upserted"]
    data: ContactData


class ContactDeleted(_CrmEventBase):
    type: Literal["contact.deleted"]
    data: ContactRef


class CompanyUpserted(_CrmEventBase):
    type: Literal["company.upserted"]
    data: CompanyData


class CompanyDeleted(_CrmEventBase):
    type: Literal["company.deleted"]
    data: CompanyRef


class TicketUpserted(_CrmEventBase):
    type: Literal["ticket.upserted"]
    data: TicketData


class TicketDeleted(_CrmEventBase):
    type: Literal["ticket.deleted"]
    data: TicketRef


class TicketContactAssociated(_CrmEventBase):
    type: Literal["ticket.contact_associated"]
    data: TicketContactLink


class TicketContactDissociated(_CrmEventBase):
    type: Literal["ticket.contact_dissociated"]
    data: TicketContactLink


class TicketCompanyAssociated(_CrmEventBase):
    type: Literal["ticket.company_associated"]
    data: TicketCompanyLink


class TicketCompanyDissociated(_CrmEventBase):
    type: Literal["ticket.company_dissociated"]
    data: TicketCompanyLink


class TicketMessageAdded(_CrmEventBase):
    type: Literal["ticket.message_added"]
    data: MessageData


CrmEvent = Annotated[
    ContactUpserted
    | ContactDeleted
    | CompanyUpserted
    | CompanyDeleted
    | TicketUpserted
    | TicketDeleted
    | TicketContactAssociated
    | TicketContactDissociated
    | TicketCompanyAssociated
    | TicketCompanyDissociated
    | TicketMessageAdded,
    Field(discriminator="type"),
]

CRM_EVENT_TYPES = (
    "contact.upserted",
    "contact.deleted",
    "company.upserted",
    "company.deleted",
    "ticket.upserted",
    "ticket.deleted",
    "ticket.contact_associated",
    "ticket.contact_dissociated",
    "ticket.company_associated",
    "ticket.company_dissociated",
    "ticket.message_added",
)

MAX_BATCH = 1000


class CrmBatch(Frozen):
    """Body of `POST /api/v1/crm/events`."""

    events: Annotated[list[CrmEvent], Field(min_length=1, max_length=MAX_BATCH)]


class CrmRecord(Frozen):
    """What travels on the CRM stream: one event and the account it belongs to."""

    account_id: Identifier
    event: CrmEvent
