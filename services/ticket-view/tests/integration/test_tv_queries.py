"""Listing: keyset pagination, sorting, status filter, search, and bad input."""

from __future__ import annotations

import pytest


@pytest.fixture
async def inbox(tv, events, portal_events):
    p = portal_events("acc", "p")
    await tv.publish_portal([p.created(), p.visibility("own")])
    tickets = [
        events.ticket("t1", subject="Printer on fire", status="closed"),
        events.ticket("t2", subject="Login broken", content="cannot sign in 100%"),
        events.ticket("t3", subject="Invoice"),
        events.ticket("t4", subject="Refund"),
        events.ticket("t5", subject="Other_thing"),
    ]
    await tv.publish_crm(
        "acc",
        [
            events.contact("c"),
            *tickets,
            *[events.link_contact(f"t{i}", "c") for i in range(1, 6)],
            events.message("t3", "m1", "The PRINTER again"),
            events.message("t4", "m2", "printer secret", public=False),
            events.message("t5", "m3", "tab\there\nnew line \\N back\\slash \u00e9"),
        ],
    )
    await tv.synced()
    return tv


async def _pages(tv, **params):
    seen, cursor = [], None
    while True:
        page = await tv.ok(
            "tickets.list", account_id="acc", portal_id="p", contact_id="c", cursor=cursor, **params
        )
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("created_at", ["t1", "t2", "t3", "t4", "t5"]),
        ("-created_at", ["t5", "t4", "t3", "t2", "t1"]),
        ("-updated_at", ["t5", "t4", "t3", "t2", "t1"]),
    ],
)
async def test_keyset_pages_cover_everything_once_in_order(inbox, sort, expected):
    assert await _pages(inbox, sort=sort, limit=2) == expected


async def test_pagination_is_stable_under_concurrent_changes(inbox, events):
    first = await inbox.ok(
        "tickets.list", account_id="acc", portal_id="p", contact_id="c", sort="created_at", limit=2
    )
    await inbox.publish_crm("acc", [events.ticket("t0", created_at="2025-01-01T00:00:00Z")])
    await inbox.publish_crm("acc", [events.link_contact("t0", "c")])
    await inbox.synced()
    page = await inbox.ok(
        "tickets.list",
        account_id="acc",
        portal_id="p",
        contact_id="c",
        sort="created_at",
        limit=10,
        cursor=first["next_cursor"],
    )
    assert [i["id"] for i in page["items"]] == ["t3", "t4", "t5"]


async def test_status_filter_and_search(inbox):
    async def ids(**params):
        page = await inbox.ok(
            "tickets.list", account_id="acc", portal_id="p", contact_id="c", limit=100, **params
        )
        return {item["id"] for item in page["items"]}

    assert await ids(status="closed") == {"t1"}
    assert await ids(status="open") == {"t2", "t3", "t4", "t5"}
    assert await ids(q="printer") == {"t1", "t3"}, "subject and public messages, not internal"
    assert await ids(q="SIGN IN") == {"t2"}
    assert await ids(q="100%") == {"t2"}
    assert await ids(q="r_t") == {"t5"}
    assert await ids(q="%") == {"t2"}
    assert await ids(q="printer", status="open") == {"t3"}


@pytest.mark.parametrize(
    "params",
    [
        {"limit": -1},
        {"limit": 0},
        {"limit": 101},
        {"sort": "subject"},
        {"status": "pending"},
        {"cursor": "garbage!!"},
        {"cursor": "W10"},
        {"contact_id": "bad id with spaces"},
    ],
)
async def test_bad_input_is_a_validation_error(tv, portal_events, params):
    p = portal_events("acc", "p")
    await tv.publish_portal([p.created()])
    await tv.synced()
    body = {"account_id": "acc", "portal_id": "p", "contact_id": "c", **params}
    reply = await tv.rpc("tickets.list", **body)
    assert reply["ok"] is False
    assert reply["error"]["code"] == "validation_error"
    assert reply["error"]["status"] == 422


async def test_a_cursor_of_another_sort_and_non_json_bodies_are_refused(inbox):
    first = await inbox.ok(
        "tickets.list", account_id="acc", portal_id="p", contact_id="c", sort="created_at", limit=1
    )
    reply = await inbox.rpc(
        "tickets.list",
        account_id="acc",
        portal_id="p",
        contact_id="c",
        sort="-updated_at",
        cursor=first["next_cursor"],
    )
    assert reply["error"]["code"] == "validation_error"
    raw = await inbox.nc.request(inbox.ns.rpc("ticket-view", "tickets.list"), b"[1", timeout=5)
    assert b"validation_error" in raw.data
    raw = await inbox.nc.request(inbox.ns.rpc("ticket-view", "nope"), b"{}", timeout=5)
    assert b"validation_error" in raw.data


async def test_text_survives_the_bulk_write_byte_for_byte(inbox):
    detail = await inbox.ok(
        "tickets.get", account_id="acc", portal_id="p", contact_id="c", ticket_id="t5"
    )
    assert detail["messages"][0]["body"] == "tab\there\nnew line \\N back\\slash \u00e9"
