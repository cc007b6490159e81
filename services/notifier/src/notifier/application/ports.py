"""What the use cases need from the outside world."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol

from notifier.domain.delivery import Delivery, DeliveryState, EmailKind


class DeliveryCancelled(Exception):
    """Nothing must be sent for this delivery (portal-config refused the token)."""


class PermanentFailure(Exception):
    """A failure no retry can fix: the delivery goes dead at once."""


class TransientFailure(Exception):
    """Worth retrying with backoff (a service or the SMTP server is not answering)."""


@dataclass(frozen=True)
class NewDelivery:
    event_id: str
    event_type: str
    kind: EmailKind
    account_id: str
    portal_id: str
    contact_id: str
    version: int
    send_after: datetime
    occurred_at: datetime
    message_id: str
    correlation_id: str | None
    state: DeliveryState = DeliveryState.PENDING
    note: str | None = None


@dataclass(frozen=True)
class PortalInfo:
    title: str
    url: str
    language: str | None


@dataclass(frozen=True)
class ContactInfo:
    email: str
    name: str | None


@dataclass(frozen=True)
class OneTimeToken:
    token: str
    expires_at: datetime


class DeliveryRepository(Protocol):
    async def record(self, new: NewDelivery, now: datetime) -> bool:
        """Insert unless the event is already recorded; True when inserted."""
        ...

    async def cancel_invitations(
        self, account_id: str, portal_id: str, contact_id: str, before_version: int, now: datetime
    ) -> int: ...

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Delivery]:
        """Due deliveries become `sending` (attempts + 1) until `lease_until`, skipping rows
        another sender holds."""
        ...

    async def finish(
        self,
        delivery: Delivery,
        state: DeliveryState,
        now: datetime,
        next_attempt_at: datetime | None = None,
        error: str | None = None,
        recipient: str | None = None,
    ) -> bool:
        """Record the outcome of the attempt `delivery.attempts`; False when the delivery moved
        on meanwhile (cancelled, or re-claimed after its lease expired)."""
        ...


class Directory(Protocol):
    """Send-time look-ups: always the current portal, contact email and a fresh token."""

    async def portal(
        self, account_id: str, portal_id: str, correlation_id: str | None
    ) -> PortalInfo: ...

    async def contact(
        self, account_id: str, contact_id: str, correlation_id: str | None
    ) -> ContactInfo: ...

    async def issue_token(self, delivery: Delivery, purpose: str) -> OneTimeToken: ...


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class EmailContent:
    kind: EmailKind
    language: str
    portal_title: str
    recipient_email: str
    recipient_name: str | None
    link: str | None
    link_expires_at: datetime | None


class Renderer(Protocol):
    languages: tuple[str, ...]

    def render(
        self, content: EmailContent, message_id: str, mail_from: str, now: datetime
    ) -> EmailMessage: ...


Hook = Callable[[Delivery], Awaitable[None]]


async def no_hook(delivery: Delivery) -> None:
    return None


@dataclass(frozen=True)
class SendHooks:
    """Test seams around the SMTP hand-over: a sender stopped in either leaves `sending`."""

    before_smtp: Hook = no_hook
    after_smtp: Hook = no_hook
