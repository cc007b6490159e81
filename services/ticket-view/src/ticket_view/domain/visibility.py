"""Which tickets a contact may see in a portal, and why.

Business rules:
- `own`: tickets associated with the contact.
- `company`: own, plus tickets associated with the contact's primary company.
- `company_for_some`: `company` for contacts matching the portal's filter groups (evaluated on
  the contact's properties merged with email, firstname, lastname, language and
  primary_company_id), `own` for everyone else.
- A portal whose visibility is not configured yet behaves as `own`.
- Only existing, non-deleted contacts, companies and tickets count; a contact without a
  (known, non-deleted) primary company sees only its own tickets.
- When the portal's display restricts pipelines, tickets of other pipelines are invisible.
- A ticket associated both with the contact and its company is `own`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from portal_contracts.filters import groups_match
from portal_contracts.portal import TicketDisplay, Visibility


@dataclass(frozen=True)
class PortalRules:
    account_id: str
    portal_id: str
    visibility: Visibility | None
    display: TicketDisplay
    version: tuple[int, int] = (0, 0)
    """The (visibility, display) versions these rules are of."""

    @property
    def mode(self) -> str:
        return self.visibility.mode if self.visibility else "own"


@dataclass(frozen=True)
class ContactFacts:
    account_id: str
    contact_id: str
    email: str
    firstname: str | None = None
    lastname: str | None = None
    primary_company_id: str | None = None
    language: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    company_known: bool = False
    """The primary company exists and is not deleted."""
    company_name: str | None = None

    @property
    def name(self) -> str | None:
        joined = " ".join(p for p in (self.firstname, self.lastname) if p)
        return joined or None

    def filter_properties(self) -> dict[str, Any]:
        merged = dict(self.properties)
        merged.update(
            email=self.email,
            firstname=self.firstname,
            lastname=self.lastname,
            language=self.language,
            primary_company_id=self.primary_company_id,
        )
        return merged


@dataclass(frozen=True)
class Reach:
    """What a contact's visibility extends to: its own tickets, maybe one company's."""

    contact_id: str
    company_id: str | None = None
    filter_group: int | None = None


def reach_of(portal: PortalRules, contact: ContactFacts) -> Reach:
    mode = portal.mode
    if mode == "own" or not contact.company_known:
        return Reach(contact.contact_id)
    if mode == "company":
        return Reach(contact.contact_id, contact.primary_company_id)
    groups = portal.visibility.contact_filters if portal.visibility else None
    index = groups_match(groups or [], contact.filter_properties())
    if index is None:
        return Reach(contact.contact_id)
    return Reach(contact.contact_id, contact.primary_company_id, index)


def reason_of(reach: Reach, own: bool) -> dict[str, Any]:
    if own or reach.company_id is None:
        return {"kind": "own_association"}
    reason: dict[str, Any] = {"kind": "primary_company", "company_id": reach.company_id}
    if reach.filter_group is not None:
        reason["filter_group"] = reach.filter_group
    return reason


def status_label(display: TicketDisplay, stage: str) -> str:
    return (display.status_labels or {}).get(stage, stage)


def display_properties(display: TicketDisplay, properties: dict[str, Any]) -> dict[str, Any]:
    wanted = display.properties or []
    return {name: properties[name] for name in wanted if name in properties}
