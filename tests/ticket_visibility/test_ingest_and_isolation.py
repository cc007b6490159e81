"""Ingest is all or nothing and idempotent; accounts never mix; bad queries are clear 4xx."""

from __future__ import annotations

import nats

OWN = {"kind": "own_association"}


async def crm_stream_size(stack) -> int:
    nc = await nats.connect(stack.nats_url)
    try:
        info = await nc.jetstream().stream_info(stack.namespace.crm_stream)
        return int(info.state.messages)
    finally:
        await nc.close()


async def test_an_invalid_event_rejects_the_batch_and_resending_counts_duplicates(stack, crm):
    a = stack.a
    pid = await a.portal({"mode": "own"}, "help.acme.test")
    base = [crm.contact("alice"), crm.ticket("t1"), crm.link("t1", contact="alice")]
    assert await a.ingest(*base) == {"accepted": 3, "duplicates": 0}
    await a.sees(pid, "alice", {"t1": OWN})
    stored = await crm_stream_size(stack)

    broken = crm.ticket("t3") | {"occurred_at": "yesterday"}
    batch = [crm.ticket("t2"), crm.link("t2", contact="alice"), broken]
    refused = await a.http.post("/api/v1/crm/events", json={"events": batch})
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "validation_error"
    assert [(e["index"], e["field"]) for e in error["details"]["errors"]] == [(2, "occurred_at")]
    assert await crm_stream_size(stack) == stored

    assert await a.ingest(*base) == {"accepted": 0, "duplicates": 3}
    marker = [crm.ticket("t9"), crm.link("t9", contact="alice")]
    assert await a.ingest(*marker, marker[0]) == {"accepted": 2, "duplicates": 1}
    await a.sees(pid, "alice", {"t1": OWN, "t9": OWN})
    assert await crm_stream_size(stack) == stored + 2


async def test_accounts_never_mix(stack, crm):
    """Both accounts send the very same events (same event ids too): each gets its own."""
    a, b = stack.a, stack.b
    pid_a = await a.portal({"mode": "company"}, "help.acme.test")
    pid_b = await b.portal({"mode": "company"}, "help.globex.test")
    same_ids = [
        crm.company("co1"),
        crm.contact("alice", "co1"),
        crm.ticket("t1"),
        crm.link("t1", company="co1"),
    ]
    await a.ingest(*same_ids, crm.ticket("t2"), crm.link("t2", contact="alice"))
    await b.ingest(*same_ids, crm.ticket("t1", subject="Globex only"))
    via_co1 = {"kind": "primary_company", "company_id": "co1"}
    await a.sees(pid_a, "alice", {"t1": via_co1, "t2": OWN})
    await b.sees(pid_b, "alice", {"t1": via_co1})
    subjects = [i["subject"] for i in (await b.preview(pid_b, "alice")).json()["items"]]
    assert subjects == ["Globex only"]

    foreign = await b.preview(pid_a, "alice")
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "not_found"
    assert "items" not in foreign.text
    assert (await a.preview("no-such-portal", "alice")).status_code == 404
    assert (await a.preview("bad id!", "alice")).status_code == 404
    unauthenticated = await stack.anonymous.get(
        f"/api/v1/portals/{pid_a}/preview", params={"contact_id": "alice"}
    )
    assert unauthenticated.status_code == 401


async def test_bad_query_input_is_a_clear_4xx_and_pages_follow_the_cursor(stack, crm):
    a = stack.a
    pid = await a.portal({"mode": "own"}, "help.acme.test")
    tickets = [crm.ticket(f"t{n}", day=n) for n in range(1, 6)]
    links = [crm.link(f"t{n}", contact="alice") for n in range(1, 6)]
    await a.ingest(crm.contact("alice"), *tickets, *links)
    await a.sees(pid, "alice", {f"t{n}": OWN for n in range(1, 6)})

    first = (await a.preview(pid, "alice", limit=2, sort="created_at")).json()
    assert [i["id"] for i in first["items"]] == ["t1", "t2"]
    second = await a.preview(pid, "alice", limit=2, sort="created_at", cursor=first["next_cursor"])
    assert [i["id"] for i in second.json()["items"]] == ["t3", "t4"]
    closed = await a.preview(pid, "alice", status="closed")
    assert closed.json() == {"items": [], "next_cursor": None}

    bad = [
        {"limit": 0},
        {"limit": 101},
        {"limit": "ten"},
        {"sort": "subject"},
        {"status": "pending"},
        {"cursor": "garbage!!"},
        {"cursor": first["next_cursor"], "sort": "-updated_at"},
        {"q": "x" * 201},
    ]
    for params in bad:
        response = await a.preview(pid, "alice", **params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["error"]["code"] == "validation_error", params
    missing = await a.http.get(f"/api/v1/portals/{pid}/preview")
    assert missing.status_code == 422
    assert "contact_id" in missing.text
