"""Portal aggregate rules, given / when / then."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from portal_config.domain.commands import (
    Activate,
    ConfigureAccess,
    ConfigureTickets,
    ConnectedDomain,
    CreatePortal,
    Deactivate,
    PortalCommand,
    SetDomain,
    UpdateSettings,
)
from portal_config.domain.errors import Conflict, InvalidInput, NotFound, SetupIncomplete
from portal_config.domain.portal import PortalState, decide, evolve, fold
from portal_config.domain.view import portal_url, to_view
from portal_contracts.portal import (
    RESERVED_SLUGS,
    Access,
    AccessGroup,
    ConsentNotice,
    PortalEvent,
    TicketDisplay,
    Visibility,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
EN = ConnectedDomain("help.acme.com", "en")
OWN = Visibility(mode="own")
OPEN = Access(mode="open")


class Given:
    """Holds the events so far; `when` decides a command on their fold."""

    def __init__(self, *commands: PortalCommand) -> None:
        self.ids = (f"e{n}" for n in itertools.count(1))
        self.clock = (T0 + timedelta(seconds=n) for n in itertools.count())
        self.events: list[PortalEvent] = []
        for command in commands:
            self.events += self.when(command)

    @property
    def state(self) -> PortalState | None:
        return fold(self.events)

    def when(self, command: PortalCommand) -> list[PortalEvent]:
        return decide(self.state, command, next(self.clock), lambda: next(self.ids))


CREATE = CreatePortal("acc1", "p1", "Help centre")
SET_DOMAIN = SetDomain("help.acme.com", "support", EN)
TICKETS = ConfigureTickets("inbox1", True, OWN)
ACCESS = ConfigureAccess(OPEN)
COMPLETE = (CREATE, SET_DOMAIN, TICKETS, ACCESS)


def test_create_records_the_title_as_a_draft() -> None:
    events = Given().when(CREATE)
    assert [e.type for e in events] == ["portal.created"]
    state = evolve(None, events[0])
    assert (state.title, state.status, state.version) == ("Help centre", "draft", 1)
    assert state.missing == ["domain", "tickets", "access"]


def test_create_twice_is_refused() -> None:
    with pytest.raises(Conflict):
        Given(CREATE).when(CREATE)


@pytest.mark.parametrize("command", [SET_DOMAIN, TICKETS, ACCESS, Activate(), Deactivate()])
def test_a_command_on_a_missing_portal_is_not_found(command: PortalCommand) -> None:
    with pytest.raises(NotFound):
        Given().when(command)


def test_set_domain_takes_the_domains_primary_language() -> None:
    given = Given(CREATE)
    [event] = given.when(
        SetDomain("help.acme.com", "support", ConnectedDomain("help.acme.com", "pt-BR"))
    )
    assert event.type == "portal.domain_set" and event.version == 2
    state = evolve(given.state, event)
    assert (state.domain, state.slug, state.language) == ("help.acme.com", "support", "pt-BR")
    assert to_view(state).url == "https://help.acme.com/support/"


def test_set_domain_refuses_a_domain_that_is_not_connected() -> None:
    with pytest.raises(Conflict) as refused:
        Given(CREATE).when(SetDomain("other.com", "support", None))
    assert refused.value.details["reason"] == "domain_not_connected"


def test_set_domain_refuses_a_mismatching_connected_domain() -> None:
    with pytest.raises(Conflict):
        Given(CREATE).when(SetDomain("other.com", "support", EN))


@pytest.mark.parametrize("slug", sorted(RESERVED_SLUGS))
def test_set_domain_refuses_a_reserved_slug(slug: str) -> None:
    with pytest.raises(InvalidInput):
        Given(CREATE).when(SetDomain("help.acme.com", slug, EN))


def test_tickets_need_an_inbox_of_the_account() -> None:
    with pytest.raises(NotFound):
        Given(CREATE).when(ConfigureTickets("nope", False, OWN))


def test_tickets_record_inbox_and_visibility() -> None:
    given = Given(CREATE)
    flt = {"property": "tier", "operator": "eq", "value": "gold"}
    visibility = Visibility.model_validate({"mode": "company_for_some", "contact_filters": [[flt]]})
    [event] = given.when(ConfigureTickets("inbox1", True, visibility))
    state = evolve(given.state, event)
    assert state.default_inbox_id == "inbox1" and state.visibility == visibility
    assert state.missing == ["domain", "access"]


def test_access_defaults_to_a_120_second_registration_email_delay() -> None:
    given = Given(CREATE)
    access = Access(mode="invite", access_groups=[AccessGroup(name="VIP", contact_ids=["c1"])])
    [event] = given.when(ConfigureAccess(access))
    state = evolve(given.state, event)
    assert state.access is not None and state.access.registration_email_delay_seconds == 120


@pytest.mark.parametrize(
    ("steps", "missing"),
    [
        ((), ["domain", "tickets", "access"]),
        ((SET_DOMAIN,), ["tickets", "access"]),
        ((SET_DOMAIN, TICKETS), ["access"]),
        ((TICKETS, ACCESS), ["domain"]),
        ((SET_DOMAIN, ACCESS), ["tickets"]),
    ],
)
def test_activation_needs_a_complete_setup(
    steps: tuple[PortalCommand, ...], missing: list[str]
) -> None:
    with pytest.raises(SetupIncomplete) as refused:
        Given(CREATE, *steps).when(Activate())
    assert refused.value.details["missing"] == missing


def test_activation_of_a_complete_portal() -> None:
    given = Given(*COMPLETE)
    [event] = given.when(Activate())
    assert event.type == "portal.activated"
    assert evolve(given.state, event).status == "active"


def test_activating_an_active_portal_is_refused() -> None:
    with pytest.raises(Conflict):
        Given(*COMPLETE, Activate()).when(Activate())


def test_deactivation_and_reactivation() -> None:
    given = Given(*COMPLETE, Activate(), Deactivate())
    assert given.state is not None and given.state.status == "inactive"
    [event] = given.when(Activate())
    assert evolve(given.state, event).status == "active"


@pytest.mark.parametrize("before", [(), (Activate(), Deactivate())])
def test_deactivating_a_portal_that_is_not_active_is_refused(
    before: tuple[PortalCommand, ...],
) -> None:
    with pytest.raises(Conflict):
        Given(*COMPLETE, *before).when(Deactivate())


def test_settings_edit_records_only_what_changed() -> None:
    given = Given(CREATE)
    display = TicketDisplay(allow_close=True)
    [event] = given.when(UpdateSettings(title="Help centre", ticket_display=display))
    assert event.type == "portal.settings_changed"
    assert event.data.title is None and event.data.ticket_display == display
    assert event.data.consent_notice is None and event.data.support_form is None
    state = evolve(given.state, event)
    assert state.ticket_display.allow_close and state.title == "Help centre"


def test_settings_edit_that_changes_nothing_records_nothing() -> None:
    given = Given(CREATE, UpdateSettings(consent_notice=ConsentNotice(enabled=True, text="OK?")))
    assert given.when(UpdateSettings(title="Help centre")) == []
    assert given.when(UpdateSettings(consent_notice=ConsentNotice(enabled=True, text="OK?"))) == []
    assert given.when(UpdateSettings()) == []


def test_versions_and_timestamps_follow_the_events() -> None:
    given = Given(*COMPLETE, Activate())
    assert [e.version for e in given.events] == [1, 2, 3, 4, 5]
    state = given.state
    assert state is not None and state.version == 5
    assert state.created_at == T0 and state.updated_at == T0 + timedelta(seconds=4)


@pytest.mark.parametrize(
    ("domain", "url"),
    [
        ("help.acme.com", "https://help.acme.com/s/"),
        ("localhost", "http://localhost/s/"),
        ("localhost:8000", "http://localhost:8000/s/"),
        ("127.0.0.1:8000", "http://127.0.0.1:8000/s/"),
        ("acme.com:8443", "https://acme.com:8443/s/"),
    ],
)
def test_portal_url(domain: str, url: str) -> None:
    assert portal_url(domain, "s") == url
