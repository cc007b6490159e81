"""Portal configuration: the settings shapes of API.md and the portal's integration events."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, StringConstraints, model_validator

from .base import Frozen, Identifier, ShortText, UtcDatetime
from .filters import FilterGroups

VisibilityMode = Literal["own", "company", "company_for_some"]
AccessMode = Literal["invite", "open"]
PortalStatus = Literal["draft", "active", "inactive"]
SetupStep = Literal["domain", "tickets", "access"]


def _normalised(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


Slug = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$", strict=True)
]
DomainName = Annotated[
    str,
    BeforeValidator(_normalised),
    StringConstraints(
        max_length=253,
        pattern=r"^(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)*"
        r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?(?::[0-9]{1,5})?$",
    ),
]
"""A host name, optionally with a port (`localhost:8000` in development); case-insensitive."""
LanguageTag = Annotated[
    str, StringConstraints(pattern=r"^[a-zA-Z]{2,3}(?:-[a-zA-Z0-9]{2,8})*$", strict=True)
]
EmailDomain = Annotated[
    str,
    BeforeValidator(_normalised),
    StringConstraints(max_length=253, pattern=r"^[a-z0-9\-]+(?:\.[a-z0-9\-]+)+$"),
]

DEFAULT_REGISTRATION_EMAIL_DELAY_SECONDS = 120
RESERVED_SLUGS = frozenset({"api", "static", "healthz", "readyz", "metrics", "docs", "openapi"})


class Visibility(Frozen):
    mode: VisibilityMode
    contact_filters: FilterGroups | None = None

    @model_validator(mode="after")
    def _filters_fit_mode(self) -> Visibility:
        if self.mode == "company_for_some" and not self.contact_filters:
            raise ValueError("mode 'company_for_some' needs contact_filters")
        if self.mode != "company_for_some" and self.contact_filters:
            raise ValueError(f"mode '{self.mode}' takes no contact_filters")
        return self


class AccessGroup(Frozen):
    name: ShortText
    contact_ids: Annotated[list[Identifier], Field(max_length=10_000)] | None = None
    contact_filters: FilterGroups | None = None

    @model_validator(mode="after")
    def _has_members(self) -> AccessGroup:
        if not self.contact_ids and not self.contact_filters:
            raise ValueError("an access group needs contact_ids or contact_filters")
        return self


class Access(Frozen):
    mode: AccessMode
    access_groups: Annotated[list[AccessGroup], Field(max_length=50)] = []
    allowed_email_domains: Annotated[list[EmailDomain], Field(max_length=100)] = []
    registration_email_delay_seconds: Annotated[int, Field(ge=0, le=7 * 24 * 3600)] = (
        DEFAULT_REGISTRATION_EMAIL_DELAY_SECONDS
    )

    @model_validator(mode="after")
    def _fits_mode(self) -> Access:
        if self.mode == "invite" and not self.access_groups:
            raise ValueError("mode 'invite' needs at least one access group")
        if self.mode == "open" and self.access_groups:
            raise ValueError("mode 'open' takes no access_groups")
        if self.mode == "invite" and self.allowed_email_domains:
            raise ValueError("allowed_email_domains applies to mode 'open' only")
        return self


class TicketDisplay(Frozen):
    pipelines: Annotated[list[ShortText], Field(max_length=50)] | None = None
    status_labels: Annotated[dict[str, ShortText], Field(max_length=200)] | None = None
    properties: Annotated[list[ShortText], Field(max_length=50)] | None = None
    allow_close: bool = False


class ConsentNotice(Frozen):
    enabled: bool = False
    text: Annotated[str, StringConstraints(max_length=5000)] | None = None

    @model_validator(mode="after")
    def _text_when_enabled(self) -> ConsentNotice:
        if self.enabled and not (self.text and self.text.strip()):
            raise ValueError("an enabled consent notice needs its text")
        return self


FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$", strict=True)]


class SupportFormField(Frozen):
    name: FieldName
    label: ShortText
    type: Literal["text", "textarea", "select", "email"]
    required: bool = False
    options: Annotated[list[ShortText], Field(max_length=100)] | None = None

    @model_validator(mode="after")
    def _options_for_select(self) -> SupportFormField:
        if self.type == "select" and not self.options:
            raise ValueError("a select field needs options")
        if self.type != "select" and self.options:
            raise ValueError("only a select field takes options")
        return self


class SupportForm(Frozen):
    enabled: bool = True
    fields: Annotated[list[SupportFormField], Field(max_length=30)] = []

    @model_validator(mode="after")
    def _unique_names(self) -> SupportForm:
        names = [f.name for f in self.fields]
        if len(names) != len(set(names)):
            raise ValueError("support form field names must be unique")
        if {"subject", "description"} & set(names):
            raise ValueError("'subject' and 'description' are built-in fields")
        return self


class SetupState(Frozen):
    missing: list[SetupStep]


class PortalView(Frozen):
    """The Portal resource of API.md."""

    id: Identifier
    title: str
    status: PortalStatus
    version: int
    domain: str | None = None
    slug: str | None = None
    url: str | None = None
    language: str | None = None
    default_inbox_id: str | None = None
    visibility: Visibility | None = None
    access: Access | None = None
    ticket_display: TicketDisplay
    consent_notice: ConsentNotice
    support_form: SupportForm
    setup: SetupState
    created_at: UtcDatetime
    updated_at: UtcDatetime


# --- integration events of the PORTAL stream -------------------------------------------


class PortalCreatedData(Frozen):
    title: str


class PortalDomainSetData(Frozen):
    domain: str
    slug: str
    language: str


class PortalTicketsConfiguredData(Frozen):
    default_inbox_id: str
    visibility: Visibility


class PortalAccessConfiguredData(Frozen):
    access: Access


class PortalSettingsChangedData(Frozen):
    """Only the settings that changed are present; each carries its whole new value."""

    title: str | None = None
    ticket_display: TicketDisplay | None = None
    consent_notice: ConsentNotice | None = None
    support_form: SupportForm | None = None


class PortalStatusChangedData(Frozen):
    pass


class ConfigEventEnvelope(Frozen):
    """What every event of the configuration stream carries (portal and member events):
    `version` is the version of the aggregate's own stream after this event."""

    event_id: Identifier
    schema_version: Literal[1] = 1
    occurred_at: UtcDatetime
    account_id: Identifier
    portal_id: Identifier
    version: Annotated[int, Field(ge=1)]
    correlation_id: str | None = None


class PortalCreated(ConfigEventEnvelope):
    type: Literal["portal.created"] = "portal.created"
    data: PortalCreatedData


class PortalDomainSet(ConfigEventEnvelope):
    type: Literal["portal.domain_set"] = "portal.domain_set"
    data: PortalDomainSetData


class PortalTicketsConfigured(ConfigEventEnvelope):
    type: Literal["portal.tickets_configured"] = "portal.tickets_configured"
    data: PortalTicketsConfiguredData


class PortalAccessConfigured(ConfigEventEnvelope):
    type: Literal["portal.access_configured"] = "portal.access_configured"
    data: PortalAccessConfiguredData


class PortalSettingsChanged(ConfigEventEnvelope):
    type: Literal["portal.settings_changed"] = "portal.settings_changed"
    data: PortalSettingsChangedData


class PortalActivated(ConfigEventEnvelope):
    type: Literal["portal.activated"] = "portal.activated"
    data: PortalStatusChangedData = PortalStatusChangedData()


class PortalDeactivated(ConfigEventEnvelope):
    type: Literal["portal.deactivated"] = "portal.deactivated"
    data: PortalStatusChangedData = PortalStatusChangedData()


PortalEvent = Annotated[
    PortalCreated
    | PortalDomainSet
    | PortalTicketsConfigured
    | PortalAccessConfigured
    | PortalSettingsChanged
    | PortalActivated
    | PortalDeactivated,
    Field(discriminator="type"),
]
