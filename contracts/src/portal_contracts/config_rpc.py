"""Request/reply messages served by portal-config (subject `<ns>.rpc.portal-config.<op>`).

Every request names the account it acts for; portal-config never resolves an id across
accounts. Replies are `RpcReply` whose `result` has the shape named in each docstring.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import Frozen, Identifier, ShortText
from .portal import (
    Access,
    ConsentNotice,
    DomainName,
    LanguageTag,
    PortalView,
    Slug,
    SupportForm,
    TicketDisplay,
    Visibility,
)

SERVICE = "portal-config"
ApiKey = Annotated[str, Field(min_length=16, max_length=200)]


class AccountView(Frozen):
    id: Identifier
    name: str


class DomainView(Frozen):
    domain: str
    primary_language: str
    system: bool


class InboxView(Frozen):
    id: Identifier
    name: str
    kind: Literal["inbox", "help_desk"]


# --- accounts ----------------------------------------------------------------------------


class ResolveApiKey(Frozen):
    """→ AccountView, or `unauthorized`."""

    op: Literal["auth.resolve_key"] = "auth.resolve_key"
    api_key: str = Field(max_length=500)


class EnsureAccount(Frozen):
    """Operator command: create the account if missing; attach `api_key` if given.
    → {account: AccountView, api_key: str | None} (the key only when newly generated)."""

    op: Literal["account.ensure"] = "account.ensure"
    name: ShortText
    api_key: ApiKey | None = None


class GetAccount(Frozen):
    """→ AccountView."""

    op: Literal["account.get"] = "account.get"
    account_id: Identifier


# --- domains and inboxes -----------------------------------------------------------------


class AddDomain(Frozen):
    """→ DomainView; `conflict` when the account already has it."""

    op: Literal["domain.add"] = "domain.add"
    account_id: Identifier
    domain: DomainName
    primary_language: LanguageTag
    system: bool = False


class ListDomains(Frozen):
    """→ {items: [DomainView]}."""

    op: Literal["domain.list"] = "domain.list"
    account_id: Identifier


class CreateInbox(Frozen):
    """→ InboxView."""

    op: Literal["inbox.create"] = "inbox.create"
    account_id: Identifier
    name: ShortText
    kind: Literal["inbox", "help_desk"]


class ListInboxes(Frozen):
    """→ {items: [InboxView]}."""

    op: Literal["inbox.list"] = "inbox.list"
    account_id: Identifier


# --- portals -----------------------------------------------------------------------------


class CreatePortal(Frozen):
    """→ PortalView (status draft)."""

    op: Literal["portal.create"] = "portal.create"
    account_id: Identifier
    title: ShortText


class ListPortals(Frozen):
    """→ {items: [PortalView]}."""

    op: Literal["portal.list"] = "portal.list"
    account_id: Identifier


class GetPortal(Frozen):
    """→ PortalView; `not_found` for an unknown id or one of another account."""

    op: Literal["portal.get"] = "portal.get"
    account_id: Identifier
    portal_id: Identifier


class PortalHistory(Frozen):
    """→ {items: [{version, type, occurred_at, data}]}."""

    op: Literal["portal.history"] = "portal.history"
    account_id: Identifier
    portal_id: Identifier


class _PortalCommand(Frozen):
    account_id: Identifier
    portal_id: Identifier
    expected_version: int | None = None
    """From `If-Match`; a stale one → `precondition_failed`."""


class SetPortalDomain(_PortalCommand):
    """→ PortalView. Domain must be connected; (domain, slug) unique → else `conflict`."""

    op: Literal["portal.set_domain"] = "portal.set_domain"
    domain: DomainName
    slug: Slug


class ConfigurePortalTickets(_PortalCommand):
    """→ PortalView. The inbox must exist in the account."""

    op: Literal["portal.configure_tickets"] = "portal.configure_tickets"
    default_inbox_id: Identifier
    visibility: Visibility


class ConfigurePortalAccess(_PortalCommand):
    """→ PortalView."""

    op: Literal["portal.configure_access"] = "portal.configure_access"
    access: Access


class UpdatePortalSettings(_PortalCommand):
    """→ PortalView. Absent fields stay as they are."""

    op: Literal["portal.update_settings"] = "portal.update_settings"
    title: ShortText | None = None
    ticket_display: TicketDisplay | None = None
    consent_notice: ConsentNotice | None = None
    support_form: SupportForm | None = None


class ActivatePortal(_PortalCommand):
    """→ PortalView; incomplete set-up → `setup_incomplete` with details.missing."""

    op: Literal["portal.activate"] = "portal.activate"


class DeactivatePortal(_PortalCommand):
    """→ PortalView."""

    op: Literal["portal.deactivate"] = "portal.deactivate"


class ResolvePortal(Frozen):
    """Customer side: host + slug → ResolvedPortal of an active portal, else `not_found`."""

    op: Literal["portal.resolve"] = "portal.resolve"
    host: DomainName
    slug: str = Field(max_length=100)


class ResolvedPortal(PortalView):
    """A portal found from the customer side, with the account every later call acts for."""

    account_id: Identifier


PortalConfigRequest = Annotated[
    ResolveApiKey
    | EnsureAccount
    | GetAccount
    | AddDomain
    | ListDomains
    | CreateInbox
    | ListInboxes
    | CreatePortal
    | ListPortals
    | GetPortal
    | PortalHistory
    | SetPortalDomain
    | ConfigurePortalTickets
    | ConfigurePortalAccess
    | UpdatePortalSettings
    | ActivatePortal
    | DeactivatePortal
    | ResolvePortal,
    Field(discriminator="op"),
]
