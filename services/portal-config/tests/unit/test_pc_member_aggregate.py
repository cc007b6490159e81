"""The Member aggregate as given / when / then, plus the pure access and password rules."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from portal_config.application.passwords import check_password
from portal_config.domain import member as m
from portal_config.domain.access import Contact, email_domain_allowed, in_access_groups
from portal_config.domain.errors import BadRequest, Conflict, InvalidInput, NotFound
from portal_contracts.member import MemberEvent
from portal_contracts.portal import Access

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(seconds=120)
_ids = itertools.count(1)


def new_id() -> str:
    return f"e{next(_ids)}"


def given(*commands: m.MemberCommand, at: datetime = NOW) -> m.MemberState:
    state = m.MemberState.new("a1", "p1", "c1")
    for command in commands:
        state = m.fold(state, m.decide(state, command, at, new_id))
    return state


def when(state: m.MemberState, command: m.MemberCommand, at: datetime = NOW) -> list[MemberEvent]:
    return m.decide(state, command, at, new_id)


def then_types(events: list[MemberEvent]) -> list[str]:
    return [e.type for e in events]


def invited(reason: str = "access_group", send_after: datetime = LATER) -> m.Invite:
    return m.Invite(reason, send_after)  # type: ignore[arg-type]


def active() -> m.MemberState:
    state = given(invited())
    return m.fold(state, when(state, m.Activate(state.invitation_event_id or "")))


def test_an_access_group_invitation_carries_send_after_and_is_not_repeated() -> None:
    events = when(given(), invited())
    assert then_types(events) == ["member.invited"]
    event = events[0]
    assert event.data.send_after == LATER and event.data.reason == "access_group"
    assert event.version == 1
    assert when(given(invited()), invited()) == []


def test_explicit_and_self_registration_re_invite_an_invited_contact() -> None:
    state = given(invited())
    assert then_types(when(state, invited("explicit", NOW))) == ["member.invited"]
    assert then_types(when(state, invited("self_registration", NOW))) == ["member.invited"]


def test_send_after_is_never_before_now() -> None:
    [event] = when(given(), invited("explicit", NOW - timedelta(hours=1)))
    assert event.data.send_after == NOW


def test_an_active_member_is_not_invited_again() -> None:
    state = active()
    assert state.status == "active"
    assert when(state, invited()) == []
    assert when(state, invited("self_registration", NOW)) == []
    with pytest.raises(Conflict):
        when(state, invited("explicit", NOW))


def test_leaving_the_group_before_send_after_cancels() -> None:
    state = given(invited())
    [event] = when(state, m.CancelInvitation(), at=LATER - timedelta(seconds=1))
    assert event.type == "member.invitation_cancelled"
    assert m.evolve(state, event).status == "none"


def test_leaving_after_send_after_cancels_nothing() -> None:
    assert when(given(invited()), m.CancelInvitation(), at=LATER) == []


def test_an_explicit_invitation_is_cancelled_only_by_deletion() -> None:
    state = given(invited("explicit", LATER))
    assert when(state, m.CancelInvitation()) == []
    assert then_types(when(state, m.CancelInvitation(contact_deleted=True))) == [
        "member.invitation_cancelled"
    ]


def test_activation_needs_the_pending_invitation() -> None:
    state = given(invited())
    with pytest.raises(BadRequest):
        when(state, m.Activate("some-older-invitation"))
    [event] = when(state, m.Activate(state.invitation_event_id or ""))
    assert event.type == "member.activated"
    active = m.evolve(state, event)
    assert active.activated_at == NOW
    with pytest.raises(BadRequest):
        when(active, m.Activate(state.invitation_event_id or ""))


def test_password_reset_only_for_an_active_member_and_only_its_pending_reset() -> None:
    assert when(given(), m.RequestPasswordReset()) == []
    assert when(given(invited()), m.RequestPasswordReset()) == []
    [requested] = when(active(), m.RequestPasswordReset())
    resetting = m.evolve(active(), requested)
    with pytest.raises(BadRequest):
        when(resetting, m.ChangePassword("another"))
    [changed] = when(resetting, m.ChangePassword(requested.event_id))
    assert changed.type == "member.password_changed"
    with pytest.raises(BadRequest):
        when(m.evolve(resetting, changed), m.ChangePassword(requested.event_id))


def test_revocation_and_explicit_re_invitation() -> None:
    with pytest.raises(NotFound):
        when(given(), m.Revoke())
    revoked = given(invited(), m.Revoke())
    assert revoked.status == "revoked" and revoked.revoked_at == NOW
    assert when(revoked, m.Revoke()) == []
    assert when(revoked, invited()) == []
    assert when(revoked, invited("self_registration", NOW)) == []
    assert when(revoked, m.RequestPasswordReset()) == []
    [event] = when(revoked, invited("explicit", NOW))
    assert m.evolve(revoked, event).status == "invited"


GOLD = Access.model_validate(
    {
        "mode": "invite",
        "access_groups": [
            {"name": "Static", "contact_ids": ["vip"]},
            {
                "name": "Gold",
                "contact_filters": [
                    [{"property": "tier", "operator": "eq", "value": "gold"}],
                    [{"property": "email", "operator": "contains", "value": "@acme.com"}],
                ],
            },
        ],
    }
)


@pytest.mark.parametrize(
    ("contact", "inside"),
    [
        (Contact("a", "vip", "x@y.org"), True),
        (Contact("a", "c", "x@y.org", {"tier": "GOLD"}), True),
        (Contact("a", "c", "x@acme.com", {"email": "x@acme.com"}), True),
        (Contact("a", "c", "x@y.org", {"tier": "silver"}), False),
        (Contact("a", "vip", "x@y.org", deleted=True), False),
    ],
)
def test_access_groups(contact: Contact, inside: bool) -> None:
    assert in_access_groups(GOLD, contact) is inside


def test_allowed_email_domains() -> None:
    anyone = Access(mode="open")
    listed = Access(mode="open", allowed_email_domains=["example.com"])
    assert email_domain_allowed(anyone, "a@whatever.org")
    assert email_domain_allowed(listed, "A@Example.COM")
    assert not email_domain_allowed(listed, "a@evil-example.com")


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("1234567", "too_short"),
        ("a" * 129, "too_long"),
        ("password", "common"),
        ("Sunshine1", "common"),
        ("jane.doe", "email"),
        ("jane.doe@example.com", "email"),
    ],
)
def test_password_rules(password: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_password(password, "Jane.Doe@example.com")
    assert refused.value.details["reason"] == reason


def test_acceptable_passwords() -> None:
    check_password("a" * 128, "jane@example.com")
    check_password("violet kettle drum", None)
