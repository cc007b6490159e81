"""The Member aggregate (one stream per portal + contact): `decide(state, command, now, new_id)`
and `evolve(state, event)`; the events are the contract's `member.*` events.

Business rules:
- `none → invited → active → revoked`; a revoked member comes back only by an explicit
  invitation. A cancelled invitation returns the contact to `none`.
- Automatic invitations (access group, self-registration) never touch an active or revoked
  member. An access-group invitation of a contact already invited changes nothing; an
  explicit invitation or a new self-registration of an invited contact sends a new email
  (a new `member.invited`, superseding the previous one).
- An explicit invitation of an active member is refused (`conflict`).
- An invitation is cancelled only before its `send_after`, and only when the contact left
  the access group it was invited for, or was deleted.
- Activation needs a pending invitation; the token must answer that very invitation.
- A password reset is requested only for an active member; confirming it needs that
  pending reset. Revoking an unknown member is `not_found`; revoking twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from portal_contracts.member import (
    InvitationReason,
    MemberActivated,
    MemberContactData,
    MemberEvent,
    MemberInvitationCancelled,
    MemberInvited,
    MemberInvitedData,
    MemberPasswordChanged,
    MemberPasswordResetRequested,
    MemberRevoked,
)
from pydantic import BaseModel, ConfigDict

from .errors import BadRequest, Conflict, NotFound

Status = Literal["none", "invited", "active", "revoked"]


class MemberState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    account_id: str
    portal_id: str
    contact_id: str
    version: int = 0
    status: Status = "none"
    invitation_event_id: str | None = None
    invitation_reason: InvitationReason | None = None
    send_after: datetime | None = None
    reset_event_id: str | None = None
    invited_at: datetime | None = None
    activated_at: datetime | None = None
    revoked_at: datetime | None = None

    @classmethod
    def new(cls, account_id: str, portal_id: str, contact_id: str) -> MemberState:
        return cls(account_id=account_id, portal_id=portal_id, contact_id=contact_id)


@dataclass(frozen=True)
class Invite:
    reason: InvitationReason
    send_after: datetime


@dataclass(frozen=True)
class CancelInvitation:
    contact_deleted: bool = False


@dataclass(frozen=True)
class Activate:
    invitation_event_id: str
    """The invitation the used token was issued for."""


@dataclass(frozen=True)
class RequestPasswordReset:
    pass


@dataclass(frozen=True)
class ChangePassword:
    reset_event_id: str


@dataclass(frozen=True)
class Revoke:
    pass


MemberCommand = (
    Invite | CancelInvitation | Activate | RequestPasswordReset | ChangePassword | Revoke
)


def decide(
    state: MemberState, command: MemberCommand, now: datetime, new_id: Callable[[], str]
) -> list[MemberEvent]:
    """The events a command produces; `[]` when nothing changes; a `Refusal` otherwise."""
    meta: dict[str, Any] = {
        "event_id": new_id(),
        "occurred_at": now,
        "account_id": state.account_id,
        "portal_id": state.portal_id,
        "version": state.version + 1,
    }
    contact = MemberContactData(contact_id=state.contact_id)
    match command:
        case Invite():
            if not _may_invite(state, command.reason):
                return []
            data = MemberInvitedData(
                contact_id=state.contact_id,
                send_after=max(command.send_after, now),
                reason=command.reason,
            )
            return [MemberInvited(**meta, data=data)]
        case CancelInvitation():
            if state.status != "invited" or state.send_after is None or now >= state.send_after:
                return []
            if state.invitation_reason != "access_group" and not command.contact_deleted:
                return []
            return [MemberInvitationCancelled(**meta, data=contact)]
        case Activate():
            if (
                state.status != "invited"
                or state.invitation_event_id != command.invitation_event_id
            ):
                raise BadRequest("the token is invalid, used or expired")
            return [MemberActivated(**meta, data=contact)]
        case RequestPasswordReset():
            if state.status != "active":
                return []
            return [MemberPasswordResetRequested(**meta, data=contact)]
        case ChangePassword():
            if state.status != "active" or state.reset_event_id != command.reset_event_id:
                raise BadRequest("the token is invalid, used or expired")
            return [MemberPasswordChanged(**meta, data=contact)]
        case Revoke():
            if state.status == "none":
                raise NotFound("no such member", contact_id=state.contact_id)
            if state.status == "revoked":
                return []
            return [MemberRevoked(**meta, data=contact)]
    raise TypeError(f"unknown command {command!r}")


def _may_invite(state: MemberState, reason: InvitationReason) -> bool:
    if state.status == "active":
        if reason == "explicit":
            raise Conflict("the contact is already an active member", contact_id=state.contact_id)
        return False
    if state.status == "revoked":
        return reason == "explicit"
    if state.status == "invited":
        return reason != "access_group"
    return True


def evolve(state: MemberState, event: MemberEvent) -> MemberState:
    changes: dict[str, Any] = {"version": event.version}
    match event:
        case MemberInvited():
            changes.update(
                status="invited",
                invitation_event_id=event.event_id,
                invitation_reason=event.data.reason,
                send_after=event.data.send_after,
                invited_at=event.occurred_at,
                activated_at=None,
                revoked_at=None,
            )
        case MemberInvitationCancelled():
            changes.update(
                status="none", invitation_event_id=None, invitation_reason=None, send_after=None
            )
        case MemberActivated():
            changes.update(
                status="active", invitation_event_id=None, activated_at=event.occurred_at
            )
        case MemberPasswordResetRequested():
            changes["reset_event_id"] = event.event_id
        case MemberPasswordChanged():
            changes["reset_event_id"] = None
        case MemberRevoked():
            changes.update(
                status="revoked",
                invitation_event_id=None,
                reset_event_id=None,
                revoked_at=event.occurred_at,
            )
    return state.model_copy(update=changes)


def fold(state: MemberState, events: list[MemberEvent]) -> MemberState:
    for event in events:
        state = evolve(state, event)
    return state
