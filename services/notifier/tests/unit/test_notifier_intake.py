"""Intake rules, given / when / then, against an in-memory repository."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from notifier.application.intake import take_in
from notifier.application.ports import NewDelivery
from notifier.domain.delivery import DeliveryState, EmailKind
from portal_contracts.member import MemberEvent
from pydantic import TypeAdapter

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
MAX_AGE = timedelta(days=3)
EVENTS: TypeAdapter[MemberEvent] = TypeAdapter(MemberEvent)


class MemoryRepo:
    def __init__(self) -> None:
        self.rows: dict[str, NewDelivery] = {}
        self.cancels: list[tuple[str, str, str, int]] = []

    async def record(self, new: NewDelivery, now: datetime) -> bool:
        if new.event_id in self.rows:
            return False
        self.rows[new.event_id] = new
        return True

    async def cancel_invitations(
        self, account_id: str, portal_id: str, contact_id: str, before_version: int, now: Any
    ) -> int:
        self.cancels.append((account_id, portal_id, contact_id, before_version))
        return 1


def event(type_: str, event_id: str = "ev1", at: datetime = NOW, **data: Any) -> MemberEvent:
    return EVENTS.validate_python(
        {
            "event_id": event_id,
            "occurred_at": at,
            "account_id": "a1",
            "portal_id": "p1",
            "version": 2,
            "type": type_,
            "data": {"contact_id": "c1", **data},
        }
    )


async def test_an_invitation_is_recorded_once_with_its_delay() -> None:
    repo = MemoryRepo()
    invited = event("member.invited", send_after=NOW + timedelta(minutes=2), reason="explicit")
    first = await take_in(invited, repo, NOW, "portal.notifier", MAX_AGE)
    again = await take_in(invited, repo, NOW, "portal.notifier", MAX_AGE)
    assert (first.outcome, again.outcome) == ("recorded", "noop")
    row = repo.rows["ev1"]
    assert row.kind is EmailKind.REGISTRATION and row.state is DeliveryState.PENDING
    assert row.send_after == NOW + timedelta(minutes=2)
    assert row.message_id == "<ev1@portal.notifier>"


async def test_reset_and_changed_are_due_at_once() -> None:
    repo = MemoryRepo()
    await take_in(event("member.password_reset_requested"), repo, NOW, "d", MAX_AGE)
    await take_in(event("member.password_changed", "ev2"), repo, NOW, "d", MAX_AGE)
    assert repo.rows["ev1"].kind is EmailKind.PASSWORD_RESET
    assert repo.rows["ev2"].kind is EmailKind.PASSWORD_CHANGED
    assert repo.rows["ev2"].send_after == NOW


async def test_cancellation_targets_earlier_versions_of_the_member() -> None:
    repo = MemoryRepo()
    result = await take_in(event("member.invitation_cancelled"), repo, NOW, "d", MAX_AGE)
    assert result.outcome == "cancelled"
    assert repo.cancels == [("a1", "p1", "c1", 2)]


async def test_other_member_events_owe_nothing() -> None:
    repo = MemoryRepo()
    for type_ in ("member.activated", "member.revoked"):
        assert (await take_in(event(type_), repo, NOW, "d", MAX_AGE)).outcome == "noop"
    assert repo.rows == {}


async def test_an_old_event_replayed_is_recorded_as_stale_not_sent() -> None:
    repo = MemoryRepo()
    old = event("member.password_changed", at=NOW - timedelta(days=30))
    result = await take_in(old, repo, NOW, "d", MAX_AGE)
    assert result.outcome == "stale"
    assert repo.rows["ev1"].state is DeliveryState.CANCELLED
