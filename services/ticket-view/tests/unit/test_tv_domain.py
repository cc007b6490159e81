"""Pure rules: last-writer-wins collapse, portal field versions, reach, cursors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from portal_contracts.crm import CrmRecord
from portal_contracts.filters import Filter
from portal_contracts.portal import TicketDisplay, Visibility
from ticket_view.application.projection import StreamMessage, plan_config, plan_crm
from ticket_view.domain import cursor
from ticket_view.domain.changes import TICKET_CONTACTS, collapse, to_change
from ticket_view.domain.portals import PortalUpdate
from ticket_view.domain.portals import collapse as collapse_portal
from ticket_view.domain.visibility import ContactFacts, PortalRules, reach_of, reason_of

AT = "2026-01-01T00:00:0{}Z"


def _link(event_id: str, second: int, associated: bool) -> CrmRecord:
    kind = "ticket.contact_associated" if associated else "ticket.contact_dissociated"
    return CrmRecord.model_validate(
        {
            "account_id": "a",
            "event": {
                "event_id": event_id,
                "type": kind,
                "occurred_at": AT.format(second),
                "data": {"ticket_id": "t", "contact_id": "c"},
            },
        }
    )


def test_the_latest_change_per_key_wins_ties_broken_by_event_id():
    given = [_link("b", 2, True), _link("a", 2, False), _link("z", 1, False)]
    winners = collapse(to_change(r.account_id, r.event) for r in given)
    (winner,) = winners[TICKET_CONTACTS]
    assert winner.version[1] == "b"
    assert winner.values == (True,)
    again = collapse(to_change(r.account_id, r.event) for r in reversed(given))
    assert again == winners


def test_portal_field_groups_keep_the_highest_version():
    updates = [
        PortalUpdate("a", "p", "status", 3, ("active",)),
        PortalUpdate("a", "p", "status", 4, ("inactive",)),
        PortalUpdate("a", "p", "title", 1, ("x",)),
    ]
    winners = collapse_portal(reversed(updates))
    assert winners["status"][0].values == ("inactive",)
    assert winners["title"][0].version == 1


def _portal(mode: str, filters=None) -> PortalRules:
    return PortalRules("a", "p", Visibility(mode=mode, contact_filters=filters), TicketDisplay())


def _contact(**kw) -> ContactFacts:
    return ContactFacts("a", "c", "c@x.io", primary_company_id="co", company_known=True, **kw)


def test_reach_per_mode():
    gold = [[Filter(property="tier", operator="eq", value="gold")]]
    assert reach_of(_portal("own"), _contact()).company_id is None
    assert reach_of(_portal("company"), _contact()).company_id == "co"
    some = reach_of(_portal("company_for_some", gold), _contact(properties={"tier": "Gold"}))
    assert (some.company_id, some.filter_group) == ("co", 0)
    assert reach_of(_portal("company_for_some", gold), _contact()).company_id is None
    by_email = [[Filter(property="email", operator="contains", value="@x.io")]]
    assert reach_of(_portal("company_for_some", by_email), _contact()).company_id == "co"
    unknown_company = ContactFacts("a", "c", "c@x.io", primary_company_id="co")
    assert reach_of(_portal("company"), unknown_company).company_id is None
    assert reason_of(some, own=True) == {"kind": "own_association"}
    assert reason_of(some, own=False) == {
        "kind": "primary_company",
        "company_id": "co",
        "filter_group": 0,
    }


def test_cursor_round_trip_and_garbage():
    moment = datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC)
    token = cursor.encode("-updated_at", moment, "t1")
    assert cursor.decode(token, "-updated_at") == (moment, "t1")
    for bad in ("", "!!", "W10", token + "x", "bnVsbA"):
        with pytest.raises(cursor.InvalidCursor):
            cursor.decode(bad, "-updated_at")
    with pytest.raises(cursor.InvalidCursor):
        cursor.decode(token, "created_at")


def test_poison_is_classified_and_member_events_are_skipped():
    plan = plan_crm(
        [
            StreamMessage(1, "s", b"\xff"),
            StreamMessage(2, "s", b'{"account_id": "a", "event": {"type": "x.y"}}'),
            StreamMessage(3, "s", b'{"account_id": "a", "event": {"type": "ticket.deleted"}}'),
        ]
    )
    assert [p.reason for p in plan.poison] == ["unparseable", "unknown_type", "invalid"]
    config = plan_config([StreamMessage(1, "s", b'{"type": "member.invited", "data": {}}')])
    assert config.poison == [] and config.portal_updates == {}
