"""The member events contract as both sides use it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from portal_contracts.member import (
    MEMBER_EVENT_TYPES,
    IssuedMemberToken,
    IssueMemberToken,
    MemberEvent,
    MemberInvited,
)
from pydantic import TypeAdapter, ValidationError

EVENTS: TypeAdapter[MemberEvent] = TypeAdapter(MemberEvent)
BASE = {
    "event_id": "ev1",
    "schema_version": 1,
    "occurred_at": "2026-11-27T12:00:00Z",
    "account_id": "a1",
    "portal_id": "p1",
    "version": 1,
}


def test_invited_parses_with_send_after_in_utc() -> None:
    event = EVENTS.validate_python(
        {
            **BASE,
            "type": "member.invited",
            "data": {
                "contact_id": "c1",
                "send_after": "2026-11-27T14:02:00+02:00",
                "reason": "access_group",
            },
        }
    )
    assert isinstance(event, MemberInvited)
    assert event.data.send_after.isoformat() == "2026-11-27T12:02:00+00:00"
    assert EVENTS.validate_json(event.model_dump_json()) == event


@pytest.mark.parametrize("type_", [t for t in MEMBER_EVENT_TYPES if t != "member.invited"])
def test_every_other_type_carries_the_contact_only(type_: str) -> None:
    event = EVENTS.validate_python({**BASE, "type": type_, "data": {"contact_id": "c1"}})
    assert event.type == type_
    with pytest.raises(ValidationError):
        EVENTS.validate_python(
            {**BASE, "type": type_, "data": {"contact_id": "c1", "token": "secret"}}
        )


def test_unknown_version_and_naive_timestamps_are_refused() -> None:
    data = {"contact_id": "c1"}
    with pytest.raises(ValidationError):
        EVENTS.validate_python(
            {**BASE, "schema_version": 2, "type": "member.revoked", "data": data}
        )
    naive = {**BASE, "occurred_at": "2026-11-27T12:00:00"}
    with pytest.raises(ValidationError):
        EVENTS.validate_python({**naive, "type": "member.revoked", "data": data})


def test_issue_token_request() -> None:
    request = IssueMemberToken(
        account_id="a1", portal_id="p1", contact_id="c1", purpose="registration", event_id="ev1"
    )
    assert request.op == "member.issue_token"
    with pytest.raises(ValidationError):
        IssueMemberToken.model_validate({**request.model_dump(), "purpose": "login"})


GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("member.*.json")), ids=lambda p: p.stem)
def test_golden_member_event_parses_and_round_trips(path: Path) -> None:
    raw = json.loads(path.read_text())
    event = EVENTS.validate_python(raw)
    assert event.type == raw["type"]
    assert EVENTS.validate_json(EVENTS.dump_json(event)) == event


def test_every_member_event_type_has_a_golden_fixture() -> None:
    covered = {json.loads(p.read_text())["type"] for p in GOLDEN.glob("member.*.json")}
    assert covered == set(MEMBER_EVENT_TYPES)


def test_golden_issue_token_exchange_parses() -> None:
    IssueMemberToken.model_validate_json((GOLDEN / "rpc.member.issue_token.json").read_text())
    IssuedMemberToken.model_validate_json(
        (GOLDEN / "rpc.member.issue_token.result.json").read_text()
    )
