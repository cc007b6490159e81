"""Deliveries: one email owed for one member event, and the rules of its life.

A delivery is keyed by the event id, so a redelivered event owes nothing new. States:

- `pending`: waiting for `next_attempt_at` (initially the event's `send_after`).
- `sending`: claimed by a sender until `next_attempt_at` (its lease). A sender that dies here
  leaves it to be claimed again once the lease expires; if it died after the SMTP server
  accepted the message, the retry re-sends it with the same `Message-ID` (the at-least-once
  boundary: receivers dedupe by `Message-ID`).
- `failed`: the last attempt failed; retried at `next_attempt_at` (exponential backoff).
- `sent`, `cancelled`, `dead` (no retry left, or a failure no retry can fix): final.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import quote


class EmailKind(StrEnum):
    REGISTRATION = "registration"
    PASSWORD_RESET = "password_reset"
    PASSWORD_CHANGED = "password_changed"


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    FAILED = "failed"
    SENT = "sent"
    CANCELLED = "cancelled"
    DEAD = "dead"


DUE_STATES = (DeliveryState.PENDING, DeliveryState.FAILED, DeliveryState.SENDING)
CANCELLABLE_STATES = (DeliveryState.PENDING, DeliveryState.FAILED)

EMAIL_FOR_EVENT = {
    "member.invited": EmailKind.REGISTRATION,
    "member.password_reset_requested": EmailKind.PASSWORD_RESET,
    "member.password_changed": EmailKind.PASSWORD_CHANGED,
}
"""Member events that call for an email; `member.invitation_cancelled` cancels one."""

TOKEN_PURPOSE = {
    EmailKind.REGISTRATION: "registration",
    EmailKind.PASSWORD_RESET: "password_reset",
}
"""Emails carrying a one-time link, and the purpose of the token asked for at send time."""

LINK_PATH = {
    EmailKind.REGISTRATION: "activate",
    EmailKind.PASSWORD_RESET: "password-reset/confirm",
}


@dataclass(frozen=True)
class Delivery:
    event_id: str
    event_type: str
    kind: EmailKind
    account_id: str
    portal_id: str
    contact_id: str
    version: int
    state: DeliveryState
    attempts: int
    send_after: datetime
    next_attempt_at: datetime
    message_id: str
    correlation_id: str | None = None
    last_error: str | None = None
    recipient: str | None = None


def message_id_for(event_id: str, domain: str) -> str:
    """Deterministic: every attempt for one event carries the same `Message-ID`."""
    return f"<{event_id}@{domain}>"


def backoff(attempts: int, base_seconds: float, max_seconds: float) -> timedelta:
    """Delay after the `attempts`-th failed attempt: base, 2·base, 4·base … capped at max."""
    exponent = max(0, min(attempts - 1, 32))
    return timedelta(seconds=min(max_seconds, base_seconds * (2**exponent)))


@dataclass(frozen=True)
class AfterFailure:
    state: DeliveryState
    next_attempt_at: datetime


def after_failure(
    attempts: int, now: datetime, max_attempts: int, base_seconds: float, max_seconds: float
) -> AfterFailure:
    """A failed attempt is retried with backoff until `max_attempts` attempts were made."""
    if attempts >= max_attempts:
        return AfterFailure(DeliveryState.DEAD, now)
    return AfterFailure(DeliveryState.FAILED, now + backoff(attempts, base_seconds, max_seconds))


def is_stale(send_after: datetime, now: datetime, max_age: timedelta) -> bool:
    """An email owed long ago is not sent any more (a replay of an old stream, a notifier
    deployed after months of events): its link would have expired and its news is old."""
    return now - send_after > max_age


def action_link(portal_url: str, kind: EmailKind, token: str) -> str:
    """API.md: `{portal.url}activate?token=…` and `{portal.url}password-reset/confirm?token=…`."""
    base = portal_url if portal_url.endswith("/") else portal_url + "/"
    return f"{base}{LINK_PATH[kind]}?token={quote(token, safe='')}"
