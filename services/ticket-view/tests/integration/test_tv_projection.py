"""The projection: poison messages, idempotent replays, a crash between commit and ack, and
rebuild equality."""

from __future__ import annotations

import asyncio
import json

import nats
from ticket_view.bootstrap import start
from ticket_view.entrypoints.rebuild import rebuild


def _late_scenario(events):
    """Out of order: associations before their entities, older events after newer ones
    (tombstones must win), ties on occurred_at broken by event_id."""
    tie_a = events.ticket("t8", at=500, subject="tie a")
    tie_b = events.ticket("t8", at=500, subject="tie b")
    late = events.link_company("t7", "co2", at=400)
    return [
        tie_b,
        events.ticket_deleted("t5"),
        events.link_company("t3", "co", on=False),
        events.link_contact("t7", "c7"),
        events.link_company("t7", "co2"),
        events.ticket("t7", status="closed"),
        events.contact("c7"),
        events.company("co2"),
        events.contact_deleted("c2"),
        events.ticket("t5", at=1, subject="older, after the deletion"),
        events.link_company("t3", "co", at=2),
        events.contact("c1", "co", at=3, firstname="Older"),
        events.company_deleted("co2", at=450),
        late,
        events.link_contact("t8", "c7"),
        events.message("t7", "m3", "late message", at=5),
        tie_a,
    ]


def _scenario(events):
    return [
        events.company("co"),
        events.contact("c1", "co"),
        events.contact("c2", "co"),
        *[events.ticket(f"t{i}") for i in range(6)],
        *[events.link_contact(f"t{i}", "c1") for i in range(3)],
        *[events.link_company(f"t{i}", "co") for i in range(2, 6)],
        events.link_contact("t1", "c1", on=False),
        events.ticket_deleted("t4"),
        events.message("t2", "m1", "public reply"),
        events.message("t2", "m2", "internal", public=False),
        events.contact("c2", None),
    ]


async def test_poison_messages_are_parked_and_the_stream_moves_on(tv, events, portal_events):
    p = portal_events("acc", "p")
    good = events.ticket("t1")
    bad_version = {**events.ticket("t2"), "schema_version": 2}
    unknown_type = {**events.ticket("t3"), "type": "ticket.exploded"}
    subject = tv.ns.crm_subject("acc", "ticket.upserted")
    await tv.publish_raw(subject, b"{not json")
    await tv.publish_raw(subject, json.dumps({"account_id": "acc", "event": bad_version}).encode())
    await tv.publish_raw(subject, json.dumps({"account_id": "acc", "event": unknown_type}).encode())
    await tv.publish_portal(
        [
            p.created(),
            p.visibility("own"),
            {**p.activated(), "type": "member.invited"},
            {**p.activated(), "type": "portal.exploded"},
        ]
    )
    await tv.publish_crm("acc", [good, events.contact("c"), events.link_contact("t1", "c")])
    await tv.synced()
    assert await tv.visible("acc", "p", "c") == {"t1"}

    parked = await tv.js.pull_subscribe(tv.ns.dlq_subjects, stream=tv.ns.dlq_stream)
    messages = await parked.fetch(10, timeout=2)
    reasons = sorted(m.headers["X-Dlq-Reason"] for m in messages)
    assert reasons == ["unknown_schema_version", "unknown_type", "unknown_type", "unparseable"]
    assert any(m.data == b"{not json" for m in messages)
    assert {m.subject for m in messages} >= {tv.ns.dlq_subject("ticket-view", "unparseable")}
    counted = tv.running.metrics.registry.get_sample_value(
        "ticket_view_dead_letters_total", {"projection": "crm", "reason": "unparseable"}
    )
    assert counted == 1


async def test_replaying_the_same_events_changes_nothing(tv, events, portal_events, dump):
    p = portal_events("acc", "p")
    await tv.publish_portal([p.created(), p.visibility("company")])
    scenario = _scenario(events)
    await tv.publish_crm("acc", scenario)
    await tv.synced()
    before = dump(tv.settings.database_url)
    for event in reversed(scenario):
        subject = tv.ns.crm_subject("acc", event["type"])
        await tv.publish_raw(subject, json.dumps({"account_id": "acc", "event": event}).encode())
    await tv.synced()
    after = dump(tv.settings.database_url)
    positions = after.pop("projection_positions")
    before.pop("projection_positions")
    assert after == before
    assert positions
    assert await tv.visible("acc", "p", "c1") == {"t0", "t2", "t3", "t5"}


async def test_a_crash_between_commit_and_ack_loses_and_doubles_nothing(
    tv_settings, namespace, events, portal_events, harness_for
):
    Harness = harness_for
    committed = asyncio.Event()
    never = asyncio.Event()

    first_batch = {}

    async def crash_after_first_commit(projection, result):
        first_batch[projection] = result
        if projection == "crm":
            committed.set()
        await never.wait()

    first = await start(tv_settings, after_commit=crash_after_first_commit)
    nc = await nats.connect(tv_settings.nats_url)
    try:
        publisher = Harness(first, nc, namespace, tv_settings)
        p = portal_events("acc", "p")
        await publisher.publish_portal([p.created(), p.visibility("company")])
        scenario = _scenario(events)
        await publisher.publish_crm("acc", scenario)
        await asyncio.wait_for(committed.wait(), 10)
        await first.stop()

        second = await start(tv_settings)
        try:
            harness = Harness(second, nc, namespace, tv_settings)
            await harness.synced()
            assert await harness.visible("acc", "p", "c1") == {"t0", "t2", "t3", "t5"}
            total = second.projectors["crm"].applied + first_batch["crm"].applied
            assert total == len(scenario), "each message applied exactly once"
            skipped = second.metrics.registry.get_sample_value(
                "ticket_view_skipped_events_total", {"projection": "crm"}
            )
            assert not skipped
        finally:
            await second.stop()
    finally:
        await nc.close()


async def test_rebuild_yields_the_incrementally_built_model(
    tv_settings, namespace, events, portal_events, harness_for, dump
):
    """Incrementally: small batches merged one by one. Rebuilt: the stream replayed in two
    parts (processes), every change staged in batches of 5, last-writer-wins resolved once at
    the end. A twin (same event_id and occurred_at, other content) in the second part loses
    to its original in the first, as it does incrementally: the earliest message wins."""
    Harness = harness_for
    tv_settings = tv_settings.model_copy(update={"batch_size": 7})
    running = await start(tv_settings)
    nc = await nats.connect(tv_settings.nats_url)
    try:
        harness = Harness(running, nc, namespace, tv_settings)
        p = portal_events("acc", "p")
        await harness.publish_portal(
            [p.created(), p.visibility("company"), p.display(pipelines=["support"])]
        )
        scenario = _scenario(events) + _late_scenario(events)
        for chunk in range(0, len(scenario), 4):
            await harness.publish_crm("acc", scenario[chunk : chunk + 4])
            await asyncio.sleep(0.01)
        await harness.publish_raw(harness.ns.crm_subject("acc", "x"), b"poison")
        duplicate = scenario[-4]
        await harness.publish_raw(
            harness.ns.crm_subject("acc", duplicate["type"]),
            json.dumps({"account_id": "acc", "event": duplicate}).encode(),
        )
        original = scenario[3]
        twin = {**original, "data": {**original["data"], "subject": "twin"}}
        await harness.publish_raw(
            harness.ns.crm_subject("acc", twin["type"]),
            json.dumps({"account_id": "acc", "event": twin}).encode(),
        )
        await harness.synced()
        await running.stop()
        incremental = dump(tv_settings.database_url)
        scenario_ids = {
            e["data"]["subject"]: e["event_id"]
            for e in scenario
            if e["type"] == "ticket.upserted" and e["data"]["ticket_id"] == "t8"
        }

        assert incremental["ticket_contacts"] and incremental["projection_positions"]
        by_id = {row[1]: row for row in incremental["tickets"]}
        assert by_id["t5"][-3] is True, "the late older upsert did not resurrect the ticket"
        assert by_id["t8"][2] == max(("tie a", "tie b"), key=lambda s: scenario_ids[s])
        assert by_id[original["data"]["ticket_id"]][2] == original["data"]["subject"]

        report = await rebuild(tv_settings.model_copy(update={"batch_size": 5, "rebuild_parts": 2}))
        assert report["parts"] == 2
        assert report["events"] == len(scenario) + 2 + 3
        assert dump(tv_settings.database_url) == incremental
    finally:
        await nc.close()


async def test_a_single_change_is_projected_well_within_a_second(tv, events):
    """Generous bounds: the test machine is shared; the bench measures the real figures."""
    await tv.publish_crm("acc", [events.contact("warmup")])
    await tv.synced()
    loop = asyncio.get_running_loop()
    lags = []
    for i in range(5):
        started = loop.time()
        seq = await tv.publish_crm("acc", [events.contact(f"c{i}")])
        await tv.running.projectors["crm"].wait_for(seq, timeout=5)
        lags.append(loop.time() - started)
    assert sorted(lags)[len(lags) // 2] < 0.5, lags
    assert max(lags) < 3.0, lags
