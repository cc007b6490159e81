"""Every refusal over real NATS answers its error code and leaves stored state unchanged
(GET and history identical before and after, for the portal and a neighbour)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Rpc = Callable[..., Awaitable[dict[str, Any]]]


async def ok(reply: Awaitable[dict[str, Any]]) -> Any:
    answer = await reply
    assert answer["ok"], answer
    return answer["result"]


async def make_account(rpc: Rpc, name: str, slug: str) -> dict[str, str]:
    aid = (await ok(rpc("account.ensure", name=name)))["account"]["id"]
    await ok(
        rpc(
            "domain.add",
            account_id=aid,
            domain="help.acme.com",
            primary_language="en",
            system=True,
        )
    )
    inbox = await ok(rpc("inbox.create", account_id=aid, name="Desk", kind="inbox"))
    pid = (await ok(rpc("portal.create", account_id=aid, title="Help")))["id"]
    await ok(
        rpc("portal.set_domain", account_id=aid, portal_id=pid, domain="help.acme.com", slug=slug)
    )
    return {"account_id": aid, "portal_id": pid, "inbox_id": inbox["id"]}


async def snapshot(rpc: Rpc, ids: dict[str, str]) -> tuple[Any, Any]:
    key = {"account_id": ids["account_id"], "portal_id": ids["portal_id"]}
    return await ok(rpc("portal.get", **key)), await ok(rpc("portal.history", **key))


OWN = {"mode": "own"}
GROUP = {"name": "VIP", "contact_ids": ["c1"]}

# (op, body, expected code); "{theirs_...}" and "{mine_inbox}" are filled in per case.
REFUSALS: list[tuple[str, dict[str, Any], str]] = [
    ("portal.set_domain", {"domain": "other.example.com", "slug": "x"}, "conflict"),
    ("portal.set_domain", {"domain": "help.acme.com", "slug": "api"}, "validation_error"),
    ("portal.set_domain", {"domain": "help.acme.com", "slug": "{theirs_slug}"}, "conflict"),
    ("portal.set_domain", {"domain": "help.acme.com", "slug": "Bad Slug"}, "validation_error"),
    ("portal.set_domain", {"domain": "no spaces.com", "slug": "x"}, "validation_error"),
    ("portal.configure_tickets", {"default_inbox_id": "nope", "visibility": OWN}, "not_found"),
    (
        "portal.configure_tickets",
        {"default_inbox_id": "{theirs_inbox}", "visibility": OWN},
        "not_found",
    ),
    (
        "portal.configure_tickets",
        {"default_inbox_id": "{mine_inbox}", "visibility": {"mode": "company_for_some"}},
        "validation_error",
    ),
    ("portal.configure_access", {"access": {"mode": "invite"}}, "validation_error"),
    (
        "portal.configure_access",
        {"access": {"mode": "open", "access_groups": [GROUP]}},
        "validation_error",
    ),
    (
        "portal.configure_access",
        {"access": {"mode": "open", "registration_email_delay_seconds": -1}},
        "validation_error",
    ),
    ("portal.activate", {}, "setup_incomplete"),
    ("portal.deactivate", {}, "conflict"),
    ("portal.update_settings", {"title": "New", "expected_version": 1}, "precondition_failed"),
    (
        "portal.set_domain",
        {"domain": "help.acme.com", "slug": "y", "expected_version": 7},
        "precondition_failed",
    ),
    ("portal.update_settings", {"consent_notice": {"enabled": True}}, "validation_error"),
    ("portal.update_settings", {"title": ""}, "validation_error"),
    ("portal.update_settings", {"title": "X", "colour": "red"}, "validation_error"),
    ("portal.update_settings", {"title": "X", "account_id": "{theirs_account}"}, "not_found"),
    ("portal.activate", {"account_id": "{theirs_account}"}, "not_found"),
]


async def test_every_refusal_changes_nothing(rpc: Rpc) -> None:
    """One service for all cases (fast); each case gets its own two accounts and portals."""
    for index, (op, body, code) in enumerate(REFUSALS):
        mine = await make_account(rpc, f"mine{index}", f"kb{index}")
        theirs = await make_account(rpc, f"theirs{index}", f"t{index}")
        fill = {
            "{theirs_inbox}": theirs["inbox_id"],
            "{theirs_account}": theirs["account_id"],
            "{mine_inbox}": mine["inbox_id"],
            "{theirs_slug}": f"t{index}",
        }
        request = {"account_id": mine["account_id"], "portal_id": mine["portal_id"]}
        request.update({k: fill.get(v, v) if isinstance(v, str) else v for k, v in body.items()})
        before = await snapshot(rpc, mine), await snapshot(rpc, theirs)

        reply = await rpc(op, **request)

        case = f"case {index}: {op} {body}"
        assert not reply["ok"] and reply["error"]["code"] == code, (case, reply)
        assert 400 <= reply["error"]["status"] < 500, case
        assert (await snapshot(rpc, mine), await snapshot(rpc, theirs)) == before, case
        if code == "setup_incomplete":
            assert reply["error"]["details"]["missing"] == ["tickets", "access"]


async def test_activating_an_active_portal_changes_nothing(rpc: Rpc) -> None:
    ids = await make_account(rpc, "active", "kb")
    key = {"account_id": ids["account_id"], "portal_id": ids["portal_id"]}
    await ok(
        rpc("portal.configure_tickets", **key, default_inbox_id=ids["inbox_id"], visibility=OWN)
    )
    await ok(rpc("portal.configure_access", **key, access={"mode": "open"}))
    await ok(rpc("portal.activate", **key))
    before = await snapshot(rpc, ids)
    reply = await rpc("portal.activate", **key)
    assert reply["error"]["code"] == "conflict"
    assert await snapshot(rpc, ids) == before
