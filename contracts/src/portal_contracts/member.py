"""Member integration events and the token request/reply around registration emails.

Published by portal-config (the `Member` aggregate: one stream per portal + contact, `version`
is that stream's version) on `namespace.config_subject(account_id, type)` of stream
`namespace.config_stream` (subjects `namespace.config_subjects`), with `Nats-Msg-Id = event_id`.
Whoever starts first creates the stream (name, subjects, file storage); a concurrent
"already in use" is not an error.

Rules both sides rely on:

- Tokens, password hashes and email addresses never appear in events or streams. The email
  goes to the contact's *current* email, resolved at send time (ticket-view `contacts.get`).
- `member.invited` says *when* the email may leave (`send_after`, UTC; equal to
  `occurred_at` for no delay). The delay lives in the notifier's delivery table, not in the
  broker. `member.invitation_cancelled` before that moment means no email.
- At send time the notifier asks portal-config for a fresh one-time token (`IssueMemberToken`
  on `namespace.rpc("portal-config", "member.issue_token")`). portal-config answers `conflict`
  when the invitation was cancelled, the member is already active or revoked, or no reset is
  pending; the notifier then records the delivery as cancelled and sends nothing. portal-config
  stores only the token's hash; each call issues a new token, and tokens issued for the same
  `event_id` stay valid together until one is used or they expire (a re-sent email after a
  notifier crash carries a second, equally valid link).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import Frozen, Identifier, UtcDatetime
from .portal import ConfigEventEnvelope

InvitationReason = Literal["access_group", "explicit", "self_registration"]
TokenPurpose = Literal["registration", "password_reset"]


class MemberInvitedData(Frozen):
    contact_id: Identifier
    send_after: UtcDatetime
    """The registration email leaves at or after this instant (0 delay: `occurred_at`)."""
    reason: InvitationReason


class MemberContactData(Frozen):
    contact_id: Identifier


class MemberInvited(ConfigEventEnvelope):
    """A registration email is due for this contact (invite, explicit or self-registration)."""

    type: Literal["member.invited"] = "member.invited"
    data: MemberInvitedData


class MemberInvitationCancelled(ConfigEventEnvelope):
    """The contact left the access group or was deleted before the email left."""

    type: Literal["member.invitation_cancelled"] = "member.invitation_cancelled"
    data: MemberContactData


class MemberActivated(ConfigEventEnvelope):
    type: Literal["member.activated"] = "member.activated"
    data: MemberContactData


class MemberPasswordResetRequested(ConfigEventEnvelope):
    """A password-reset email is due now (the request came from a known, active member)."""

    type: Literal["member.password_reset_requested"] = "member.password_reset_requested"
    data: MemberContactData


class MemberPasswordChanged(ConfigEventEnvelope):
    """A notice email is due: the password was set anew (reset confirmed)."""

    type: Literal["member.password_changed"] = "member.password_changed"
    data: MemberContactData


class MemberRevoked(ConfigEventEnvelope):
    type: Literal["member.revoked"] = "member.revoked"
    data: MemberContactData


MemberEvent = Annotated[
    MemberInvited
    | MemberInvitationCancelled
    | MemberActivated
    | MemberPasswordResetRequested
    | MemberPasswordChanged
    | MemberRevoked,
    Field(discriminator="type"),
]

MEMBER_EVENT_TYPES = (
    "member.invited",
    "member.invitation_cancelled",
    "member.activated",
    "member.password_reset_requested",
    "member.password_changed",
    "member.revoked",
)


# --- request/reply: portal-config `member.issue_token` -------------------------------------


class IssueMemberToken(Frozen):
    """→ `IssuedMemberToken`; `conflict` when no email should go (cancelled, already active,
    revoked, no reset pending); `not_found` for an unknown portal or member."""

    op: Literal["member.issue_token"] = "member.issue_token"
    account_id: Identifier
    portal_id: Identifier
    contact_id: Identifier
    purpose: TokenPurpose
    event_id: Identifier
    """The member event the email answers; ties tokens to it for audit and supersession."""


class IssuedMemberToken(Frozen):
    token: Annotated[str, Field(min_length=16, max_length=200)]
    expires_at: UtcDatetime
