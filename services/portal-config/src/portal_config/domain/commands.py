"""Portal commands. Facts that need I/O (is the domain connected, does the inbox exist) are
looked up by the application layer and travel inside the command, so `decide` stays pure."""

from __future__ import annotations

from dataclasses import dataclass

from portal_contracts.portal import Access, ConsentNotice, SupportForm, TicketDisplay, Visibility


@dataclass(frozen=True)
class ConnectedDomain:
    domain: str
    primary_language: str
    system: bool = False


@dataclass(frozen=True)
class CreatePortal:
    account_id: str
    portal_id: str
    title: str


@dataclass(frozen=True)
class SetDomain:
    domain: str
    slug: str
    connected: ConnectedDomain | None
    """The account's connected domain of that name, or None when it has none."""


@dataclass(frozen=True)
class ConfigureTickets:
    default_inbox_id: str
    inbox_exists: bool
    visibility: Visibility


@dataclass(frozen=True)
class ConfigureAccess:
    access: Access


@dataclass(frozen=True)
class UpdateSettings:
    title: str | None = None
    ticket_display: TicketDisplay | None = None
    consent_notice: ConsentNotice | None = None
    support_form: SupportForm | None = None


@dataclass(frozen=True)
class Activate:
    pass


@dataclass(frozen=True)
class Deactivate:
    pass


PortalCommand = (
    CreatePortal
    | SetDomain
    | ConfigureTickets
    | ConfigureAccess
    | UpdateSettings
    | Activate
    | Deactivate
)
