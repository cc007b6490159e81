"""The Portal aggregate: `decide(state, command, now, new_id) -> [event]`, `evolve(state, event)`.

Business rules:
- A portal is created with a title; it starts as a `draft` with default display settings.
- Its domain must be one of the account's connected domains; its slug is not reserved. The
  portal's language is that domain's primary language. Uniqueness of (domain, slug) across
  all portals is enforced by the store, which sees every account.
- The default inbox must exist in the account.
- Activation needs every set-up step (domain, tickets, access); status moves
  `draft → active ⇄ inactive`. Activating an active portal, or deactivating one that is not
  active, is refused.
- A settings edit that changes nothing records nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from portal_contracts.portal import (
    RESERVED_SLUGS,
    Access,
    ConsentNotice,
    PortalAccessConfigured,
    PortalAccessConfiguredData,
    PortalActivated,
    PortalCreated,
    PortalCreatedData,
    PortalDeactivated,
    PortalDomainSet,
    PortalDomainSetData,
    PortalEvent,
    PortalSettingsChanged,
    PortalSettingsChangedData,
    PortalStatus,
    PortalTicketsConfigured,
    PortalTicketsConfiguredData,
    SetupStep,
    SupportForm,
    TicketDisplay,
    Visibility,
)
from pydantic import BaseModel, ConfigDict

from .commands import (
    Activate,
    ConfigureAccess,
    ConfigureTickets,
    CreatePortal,
    Deactivate,
    PortalCommand,
    SetDomain,
    UpdateSettings,
)
from .errors import Conflict, InvalidInput, NotFound, SetupIncomplete


class PortalState(BaseModel):
    """Everything the aggregate knows, folded from its events."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    account_id: str
    version: int
    title: str
    status: PortalStatus = "draft"
    domain: str | None = None
    slug: str | None = None
    language: str | None = None
    default_inbox_id: str | None = None
    visibility: Visibility | None = None
    access: Access | None = None
    ticket_display: TicketDisplay = TicketDisplay()
    consent_notice: ConsentNotice = ConsentNotice()
    support_form: SupportForm = SupportForm()
    created_at: datetime
    updated_at: datetime

    @property
    def missing(self) -> list[SetupStep]:
        steps: list[SetupStep] = []
        if self.domain is None:
            steps.append("domain")
        if self.default_inbox_id is None:
            steps.append("tickets")
        if self.access is None:
            steps.append("access")
        return steps


def decide(
    state: PortalState | None,
    command: PortalCommand,
    now: datetime,
    new_id: Callable[[], str],
) -> list[PortalEvent]:
    """The events a command produces on the given state; raises a `Refusal` otherwise."""
    if isinstance(command, CreatePortal):
        if state is not None:
            raise Conflict("the portal already exists", portal_id=state.id)
        meta = {
            "event_id": new_id(),
            "occurred_at": now,
            "account_id": command.account_id,
            "portal_id": command.portal_id,
            "version": 1,
        }
        return [PortalCreated(**meta, data=PortalCreatedData(title=command.title))]
    if state is None:
        raise NotFound("no such portal")
    meta = {
        "event_id": new_id(),
        "occurred_at": now,
        "account_id": state.account_id,
        "portal_id": state.id,
        "version": state.version + 1,
    }
    event = _decide_existing(state, command, meta)
    return [event] if event is not None else []


def _decide_existing(
    state: PortalState, command: PortalCommand, meta: dict[str, Any]
) -> PortalEvent | None:
    if isinstance(command, SetDomain):
        if command.slug in RESERVED_SLUGS:
            raise InvalidInput(f"the slug '{command.slug}' is reserved", field="slug")
        if command.connected is None or command.connected.domain != command.domain:
            raise Conflict(
                f"'{command.domain}' is not a connected domain of this account",
                reason="domain_not_connected",
                domain=command.domain,
            )
        data = PortalDomainSetData(
            domain=command.domain, slug=command.slug, language=command.connected.primary_language
        )
        return PortalDomainSet(**meta, data=data)
    if isinstance(command, ConfigureTickets):
        if not command.inbox_exists:
            raise NotFound("no such inbox in this account", field="default_inbox_id")
        return PortalTicketsConfigured(
            **meta,
            data=PortalTicketsConfiguredData(
                default_inbox_id=command.default_inbox_id, visibility=command.visibility
            ),
        )
    if isinstance(command, ConfigureAccess):
        return PortalAccessConfigured(
            **meta, data=PortalAccessConfiguredData(access=command.access)
        )
    if isinstance(command, UpdateSettings):
        changed = _changed_settings(state, command)
        if not changed:
            return None
        return PortalSettingsChanged(**meta, data=PortalSettingsChangedData(**changed))
    if isinstance(command, Activate):
        if state.status == "active":
            raise Conflict("the portal is already active", status=state.status)
        if state.missing:
            raise SetupIncomplete("the portal set-up is incomplete", missing=state.missing)
        return PortalActivated(**meta)
    if isinstance(command, Deactivate):
        if state.status != "active":
            raise Conflict("only an active portal can be deactivated", status=state.status)
        return PortalDeactivated(**meta)
    raise TypeError(f"unknown command {command!r}")


def _changed_settings(state: PortalState, command: UpdateSettings) -> dict[str, Any]:
    changed: dict[str, Any] = {}
    for name in ("title", "ticket_display", "consent_notice", "support_form"):
        value = getattr(command, name)
        if value is not None and value != getattr(state, name):
            changed[name] = value
    return changed


def evolve(state: PortalState | None, event: PortalEvent) -> PortalState:
    """Folds one event into the state; events are facts, so nothing is refused here."""
    if isinstance(event, PortalCreated):
        return PortalState(
            id=event.portal_id,
            account_id=event.account_id,
            version=event.version,
            title=event.data.title,
            created_at=event.occurred_at,
            updated_at=event.occurred_at,
        )
    if state is None:
        raise ValueError(f"{event.type} before portal.created")
    changes: dict[str, Any] = {"version": event.version, "updated_at": event.occurred_at}
    if isinstance(event, PortalDomainSet):
        changes.update(event.data.model_dump())
    elif isinstance(event, PortalTicketsConfigured):
        changes.update(
            default_inbox_id=event.data.default_inbox_id, visibility=event.data.visibility
        )
    elif isinstance(event, PortalAccessConfigured):
        changes["access"] = event.data.access
    elif isinstance(event, PortalSettingsChanged):
        for name in ("title", "ticket_display", "consent_notice", "support_form"):
            value = getattr(event.data, name)
            if value is not None:
                changes[name] = value
    elif isinstance(event, PortalActivated):
        changes["status"] = "active"
    elif isinstance(event, PortalDeactivated):
        changes["status"] = "inactive"
    return state.model_copy(update=changes)


def fold(events: list[PortalEvent]) -> PortalState | None:
    state: PortalState | None = None
    for event in events:
        state = evolve(state, event)
    return state
