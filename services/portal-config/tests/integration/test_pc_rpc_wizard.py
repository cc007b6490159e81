"""The set-up wizard over real NATS: replies, stored state, history, published events."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from devstack.testing import eventually
from nats.aio.client import Client as NatsClient
from portal_config.domain.portal import fold
from portal_config.domain.view import to_view
from portal_contracts import Namespace
from portal_contracts.portal import PortalEvent
from pydantic import TypeAdapter

EVENTS: TypeAdapter[Any] = TypeAdapter(PortalEvent)
Rpc = Callable[..., Awaitable[dict[str, Any]]]


async def ok(reply: Awaitable[dict[str, Any]]) -> Any:
    answer = await reply
    assert answer["ok"], answer
    return answer["result"]


async def new_account(
    rpc: Rpc, name: str, domain: str = "help.acme.com", system: bool = False
) -> dict[str, str]:
    """A system domain may be shared by several accounts; an account's own may not."""
    account = (await ok(rpc("account.ensure", name=name)))["account"]
    aid = account["id"]
    await ok(rpc("domain.add", account_id=aid, domain=domain, primary_language="de", system=system))
    inbox = await ok(rpc("inbox.create", account_id=aid, name="Support", kind="help_desk"))
    portal = await ok(rpc("portal.create", account_id=aid, title="Hilfe"))
    return {"account_id": aid, "inbox_id": inbox["id"], "portal_id": portal["id"]}


async def test_the_whole_wizard(rpc: Rpc, nc: NatsClient, namespace: Namespace) -> None:
    received: list[Any] = []
    sub = await nc.subscribe(namespace.config_subjects, cb=_collect(received))
    ids = await new_account(rpc, "acme")
    aid, pid = ids["account_id"], ids["portal_id"]
    portal = await ok(rpc("portal.get", account_id=aid, portal_id=pid))
    assert portal["status"] == "draft" and portal["version"] == 1
    assert portal["setup"]["missing"] == ["domain", "tickets", "access"]
    assert portal["support_form"] == {"enabled": True, "fields": []}

    portal = await ok(
        rpc("portal.set_domain", account_id=aid, portal_id=pid, domain="help.acme.com", slug="kb")
    )
    assert (portal["domain"], portal["slug"], portal["language"]) == ("help.acme.com", "kb", "de")
    assert portal["url"] == "https://help.acme.com/kb/"
    visibility = {
        "mode": "company_for_some",
        "contact_filters": [[{"property": "tier", "operator": "eq", "value": "gold"}]],
    }
    portal = await ok(
        rpc(
            "portal.configure_tickets",
            account_id=aid,
            portal_id=pid,
            default_inbox_id=ids["inbox_id"],
            visibility=visibility,
            expected_version=2,
        )
    )
    assert portal["visibility"] == visibility and portal["setup"]["missing"] == ["access"]
    access = {"mode": "invite", "access_groups": [{"name": "VIP", "contact_ids": ["c1"]}]}
    portal = await ok(rpc("portal.configure_access", account_id=aid, portal_id=pid, access=access))
    assert portal["access"]["registration_email_delay_seconds"] == 120
    assert portal["setup"]["missing"] == []

    portal = await ok(rpc("portal.activate", account_id=aid, portal_id=pid))
    assert portal["status"] == "active" and portal["version"] == 5
    resolved = await ok(rpc("portal.resolve", host="help.acme.com", slug="kb"))
    assert resolved["id"] == pid

    portal = await ok(rpc("portal.deactivate", account_id=aid, portal_id=pid))
    assert portal["status"] == "inactive"
    assert (await rpc("portal.resolve", host="help.acme.com", slug="kb"))["error"]["code"] == (
        "not_found"
    )
    portal = await ok(rpc("portal.activate", account_id=aid, portal_id=pid))
    assert portal["status"] == "active"

    portal = await ok(
        rpc(
            "portal.update_settings",
            account_id=aid,
            portal_id=pid,
            title="Hilfe-Center",
            consent_notice={"enabled": True, "text": "Einverstanden?"},
        )
    )
    assert portal["title"] == "Hilfe-Center" and portal["version"] == 8

    history = (await ok(rpc("portal.history", account_id=aid, portal_id=pid)))["items"]
    assert [h["type"] for h in history] == [
        "portal.created",
        "portal.domain_set",
        "portal.tickets_configured",
        "portal.access_configured",
        "portal.activated",
        "portal.deactivated",
        "portal.activated",
        "portal.settings_changed",
    ]
    assert [h["version"] for h in history] == list(range(1, 9))
    assert history[7]["data"]["title"] == "Hilfe-Center"
    assert history[7]["data"]["ticket_display"] is None

    listed = (await ok(rpc("portal.list", account_id=aid)))["items"]
    assert listed == [portal]
    replayed = fold(
        [
            EVENTS.validate_python(
                {**h, "event_id": f"e{h['version']}", "account_id": aid, "portal_id": pid}
            )
            for h in history
        ]
    )
    assert replayed is not None
    assert to_view(replayed).model_dump(mode="json") == portal

    await eventually(lambda: len(received) == 8, timeout=5)
    await sub.unsubscribe()
    assert [e.version for e in received] == list(range(1, 9))
    assert {e.portal_id for e in received} == {pid}
    assert received[1].subject == namespace.config_subject(aid, "portal.domain_set")


def _collect(into: list[Any]) -> Any:
    async def cb(msg: Any) -> None:
        into.append(_Received(EVENTS.validate_json(msg.data), msg.subject))

    return cb


class _Received:
    def __init__(self, event: Any, subject: str) -> None:
        self.event = event
        self.subject = subject
        self.version = event.version
        self.portal_id = event.portal_id


async def test_event_reaches_jetstream_within_milliseconds(
    rpc: Rpc, nc: NatsClient, namespace: Namespace
) -> None:
    ids = await new_account(rpc, "fast")
    arrivals: list[float] = []

    async def cb(msg: Any) -> None:
        if json.loads(msg.data)["type"] == "portal.settings_changed":
            arrivals.append(time.perf_counter())

    sub = await nc.subscribe(namespace.config_subjects, cb=cb)
    latencies = []
    for n in range(10):
        sent = time.perf_counter()
        await ok(
            rpc(
                "portal.update_settings",
                account_id=ids["account_id"],
                portal_id=ids["portal_id"],
                title=f"Title {n}",
            )
        )
        await eventually(lambda n=n: len(arrivals) == n + 1, timeout=5, interval=0.001)
        latencies.append(arrivals[-1] - sent)
    await sub.unsubscribe()
    latencies.sort()
    print(f"command→JetStream latency: median {latencies[5] * 1000:.1f} ms")
    assert latencies[5] < 0.25


async def test_settings_edit_that_changes_nothing_appends_nothing(rpc: Rpc) -> None:
    ids = await new_account(rpc, "noop")
    before = await ok(rpc("portal.get", **_ids(ids)))
    after = await ok(rpc("portal.update_settings", **_ids(ids), title="Hilfe"))
    assert after == before
    assert len((await ok(rpc("portal.history", **_ids(ids))))["items"]) == 1


async def test_concurrent_claims_of_one_url_exactly_one_wins(rpc: Rpc) -> None:
    first = await new_account(rpc, "first", domain="shared.example.com", system=True)
    second = await new_account(rpc, "second", domain="shared.example.com", system=True)
    for round_ in range(5):
        slug = f"s{round_}"
        replies = await asyncio.gather(
            *(
                rpc("portal.set_domain", **_ids(ids), domain="shared.example.com", slug=slug)
                for ids in (first, second)
            )
        )
        assert sorted(r["ok"] for r in replies) == [False, True]
        [loser] = [r for r in replies if not r["ok"]]
        assert loser["error"]["code"] == "conflict" and loser["error"]["status"] == 409


def _ids(ids: dict[str, str]) -> dict[str, str]:
    return {"account_id": ids["account_id"], "portal_id": ids["portal_id"]}


@pytest.mark.parametrize("op", ["portal.get", "portal.history"])
async def test_a_portal_of_another_account_is_not_found(rpc: Rpc, op: str) -> None:
    mine = await new_account(rpc, "mine")
    theirs = await new_account(rpc, "theirs", domain="help.theirs.com")
    reply = await rpc(op, account_id=mine["account_id"], portal_id=theirs["portal_id"])
    assert reply["error"]["code"] == "not_found" and reply["error"]["status"] == 404
    assert json.dumps(reply).find("Hilfe") == -1


async def test_a_moved_portal_releases_its_url_and_resolve_ignores_the_port(rpc: Rpc) -> None:
    first = await new_account(rpc, "one", domain="localhost", system=True)
    second = await new_account(rpc, "two", domain="localhost", system=True)
    await ok(rpc("portal.set_domain", **_ids(first), domain="localhost", slug="kb"))
    taken = await rpc("portal.set_domain", **_ids(second), domain="localhost", slug="kb")
    assert taken["error"]["code"] == "conflict"
    await ok(rpc("portal.set_domain", **_ids(first), domain="localhost", slug="kb2"))
    moved = await ok(rpc("portal.set_domain", **_ids(second), domain="localhost", slug="kb"))
    assert moved["url"] == "http://localhost/kb/"
    key = {"account_id": second["account_id"], "portal_id": second["portal_id"]}
    await ok(
        rpc(
            "portal.configure_tickets",
            **key,
            default_inbox_id=second["inbox_id"],
            visibility={"mode": "own"},
        )
    )
    await ok(rpc("portal.configure_access", **key, access={"mode": "open"}))
    await ok(rpc("portal.activate", **key))
    resolved = await ok(rpc("portal.resolve", host="localhost:8000", slug="kb"))
    assert resolved["id"] == second["portal_id"]
    missing = await rpc("portal.resolve", host="localhost:8000", slug="kb2")
    assert missing["error"]["code"] == "not_found"
