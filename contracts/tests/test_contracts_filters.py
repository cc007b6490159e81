"""Filter groups: `[[A, B], [C]]` means (A and B) or C; malformed filters are refused."""

import pytest
from portal_contracts.filters import Filter, groups_match
from portal_contracts.portal import Access, Visibility
from pydantic import ValidationError


def f(prop: str, op: str, value: object = None) -> Filter:
    return Filter.model_validate({"property": prop, "operator": op, "value": value})


@pytest.mark.parametrize(
    ("flt", "props", "expected"),
    [
        (f("tier", "eq", "Gold"), {"tier": "gold"}, True),
        (f("tier", "eq", "gold"), {"tier": "silver"}, False),
        (f("tier", "neq", "gold"), {}, True),
        (f("email", "contains", "@acme."), {"email": "a@ACME.com"}, True),
        (f("seats", "in", [10, 12]), {"seats": 12}, True),
        (f("seats", "in", ["10"]), {"seats": 12}, False),
        (f("vip", "is_set"), {"vip": ""}, False),
        (f("vip", "is_set"), {"vip": False}, True),
        (f("vip", "not_set"), {}, True),
    ],
)
def test_single_filter(flt: Filter, props: dict, expected: bool) -> None:
    assert (groups_match([[flt]], props) is not None) is expected


def test_groups_are_or_of_and() -> None:
    groups = [[f("tier", "eq", "gold"), f("region", "eq", "eu")], [f("vip", "is_set")]]
    assert groups_match(groups, {"tier": "gold", "region": "eu"}) == 0
    assert groups_match(groups, {"tier": "gold", "region": "us"}) is None
    assert groups_match(groups, {"vip": "yes"}) == 1


@pytest.mark.parametrize(
    "raw",
    [
        {"property": "tier", "operator": "eq"},
        {"property": "tier", "operator": "is_set", "value": "x"},
        {"property": "tier", "operator": "in", "value": "gold"},
        {"property": "tier", "operator": "in", "value": []},
        {"property": "tier", "operator": "like", "value": "x"},
        {"property": "", "operator": "eq", "value": "x"},
    ],
)
def test_malformed_filters_are_refused(raw: dict) -> None:
    with pytest.raises(ValidationError):
        Filter.model_validate(raw)


def test_visibility_and_access_modes_need_their_parts() -> None:
    with pytest.raises(ValidationError):
        Visibility.model_validate({"mode": "company_for_some"})
    with pytest.raises(ValidationError):
        Visibility.model_validate(
            {"mode": "own", "contact_filters": [[{"property": "a", "operator": "is_set"}]]}
        )
    with pytest.raises(ValidationError):
        Access.model_validate({"mode": "invite"})
    assert Access.model_validate({"mode": "open"}).registration_email_delay_seconds == 120


def test_domain_names_are_case_insensitive() -> None:
    from portal_contracts.portal import DomainName
    from pydantic import TypeAdapter

    assert TypeAdapter(DomainName).validate_python(" Help.Example.COM ") == "help.example.com"
    with pytest.raises(ValidationError):
        TypeAdapter(DomainName).validate_python("help_desk.example.com")
