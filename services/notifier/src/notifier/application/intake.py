"""Intake: a member event becomes a delivery (or cancels one) in the notifier's own table.

- `member.invited`, `member.password_reset_requested`, `member.password_changed` each owe one
  email, recorded under the event id: recording the same event again records nothing.
- `member.invitation_cancelled` cancels the contact's registration emails on that portal that
  have not left yet (pending or waiting for a retry) and come from earlier versions of the
  member's stream; one already being sent is left to portal-config's token check.
- An email whose moment (`send_after`) lies more than `max_age` in the past is recorded as
  cancelled (`stale`): replaying an old stream must not mail people about old news.
- Other member events owe nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from portal_contracts.member import MemberEvent, MemberInvitationCancelled, MemberInvited

from notifier.application.ports import DeliveryRepository, NewDelivery
from notifier.domain.delivery import EMAIL_FOR_EVENT, DeliveryState, is_stale, message_id_for


@dataclass(frozen=True)
class IntakeResult:
    recorded: bool = False
    cancelled: int = 0
    stale: bool = False

    @property
    def outcome(self) -> str:
        if self.recorded:
            return "recorded"
        if self.stale:
            return "stale"
        return "cancelled" if self.cancelled else "noop"


async def take_in(
    event: MemberEvent,
    repo: DeliveryRepository,
    now: datetime,
    message_id_domain: str,
    max_age: timedelta,
) -> IntakeResult:
    if isinstance(event, MemberInvitationCancelled):
        cancelled = await repo.cancel_invitations(
            event.account_id, event.portal_id, event.data.contact_id, event.version, now
        )
        return IntakeResult(cancelled=cancelled)
    kind = EMAIL_FOR_EVENT.get(event.type)
    if kind is None:
        return IntakeResult()
    send_after = event.data.send_after if isinstance(event, MemberInvited) else event.occurred_at
    stale = is_stale(send_after, now, max_age)
    new = NewDelivery(
        event_id=event.event_id,
        event_type=event.type,
        kind=kind,
        account_id=event.account_id,
        portal_id=event.portal_id,
        contact_id=event.data.contact_id,
        version=event.version,
        send_after=send_after,
        occurred_at=event.occurred_at,
        message_id=message_id_for(event.event_id, message_id_domain),
        correlation_id=event.correlation_id,
        state=DeliveryState.CANCELLED if stale else DeliveryState.PENDING,
        note="stale" if stale else None,
    )
    recorded = await repo.record(new, now)
    return IntakeResult(recorded=recorded and not stale, stale=recorded and stale)
