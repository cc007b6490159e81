"""HTTP bodies and documented responses of the admin API, built from the contract types so
the gateway refuses bad input before any backend sees it. Unknown fields are refused."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from portal_contracts.base import Frozen, Identifier, ShortText
from portal_contracts.config_rpc import AccountView, DomainView, InboxView
from portal_contracts.portal import (
    RESERVED_SLUGS,
    ConsentNotice,
    DomainName,
    LanguageTag,
    PortalView,
    Slug,
    SupportForm,
    TicketDisplay,
    Visibility,
)
from pydantic import BaseModel, StrictBool, field_validator, model_validator

__all__ = ["AccountView", "DomainView", "InboxView", "PortalView"]


class NewDomain(Frozen):
    domain: DomainName
    primary_language: LanguageTag
    system: StrictBool = False


class NewInbox(Frozen):
    name: ShortText
    kind: Literal["inbox", "help_desk"]


class NewPortal(Frozen):
    title: ShortText


class PortalAddress(Frozen):
    """The domain must be one of the account's connected domains; slugs used by the
    platform's own paths are reserved."""

    domain: DomainName
    slug: Slug

    @field_validator("slug")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in RESERVED_SLUGS:
            raise ValueError(f"slug '{value}' is reserved")
        return value


class TicketSettings(Frozen):
    default_inbox_id: Identifier
    visibility: Visibility


class SettingsPatch(Frozen):
    """Absent (or null) fields stay as they are; at least one must be given."""

    title: ShortText | None = None
    ticket_display: TicketDisplay | None = None
    consent_notice: ConsentNotice | None = None
    support_form: SupportForm | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> SettingsPatch:
        if all(
            v is None
            for v in (self.title, self.ticket_display, self.consent_notice, self.support_form)
        ):
            raise ValueError(
                "give at least one of title, ticket_display, consent_notice, support_form"
            )
        return self


class DomainList(BaseModel):
    items: list[DomainView]


class InboxList(BaseModel):
    items: list[InboxView]


class PortalList(BaseModel):
    items: list[PortalView]


class HistoryEntry(BaseModel):
    version: int
    type: str
    occurred_at: datetime
    data: dict[str, Any]


class History(BaseModel):
    items: list[HistoryEntry]
