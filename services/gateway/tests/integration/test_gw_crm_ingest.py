"""CRM ingest over real HTTP and real JetStream: validation, publishing, de-duplication."""

from __future__ import annotations

import asyncio
import json

import nats
from portal_contracts.crm import CrmRecord

PATH = "/api/v1/crm/events"


def contact(n: int, event_id: str | None = None) -> dict:
    return {
        "event_id": event_id or f"e{n}",
        "type": "contact.upserted",
        "occurred_at": "2026-11-27T08:00:00+01:00",
        "data": {"contact_id": f"c{n}", "email": f"c{n}@example.com"},
    }


async def stream_messages(nats_url, namespace) -> list:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(namespace.crm_stream)
        messages = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            if info.state.messages == 0:
                break
            messages.append(await js.get_msg(namespace.crm_stream, seq))
        return messages
    finally:
        await nc.close()


async def test_a_batch_is_published_as_crm_records_with_msg_ids(client, nats_url, namespace):
    response = await client.post(PATH, json={"events": [contact(1), contact(2)]})
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 2, "duplicates": 0}
    messages = await stream_messages(nats_url, namespace)
    assert [m.subject for m in messages] == [f"{namespace.name}.crm.v1.acc1.contact_upserted"] * 2
    assert [m.headers["Nats-Msg-Id"] for m in messages] == ["acc1:e1", "acc1:e2"]
    record = CrmRecord.model_validate_json(messages[0].data)
    assert record.account_id == "acc1"
    assert record.event.occurred_at.isoformat() == "2026-11-27T07:00:00+00:00"


async def test_duplicates_are_counted_on_resend_and_within_a_batch(client, nats_url, namespace):
    first = await client.post(PATH, json={"events": [contact(1), contact(2)]})
    assert first.json() == {"accepted": 2, "duplicates": 0}
    again = await client.post(PATH, json={"events": [contact(1), contact(2), contact(3)]})
    assert again.json() == {"accepted": 1, "duplicates": 2}
    twice = await client.post(PATH, json={"events": [contact(4), contact(4)]})
    assert twice.json() == {"accepted": 1, "duplicates": 1}
    assert len(await stream_messages(nats_url, namespace)) == 4


async def test_an_invalid_event_names_its_index_and_nothing_is_published(
    client, nats_url, namespace
):
    bad_email = contact(2) | {"data": {"contact_id": "c2", "email": "nope"}}
    unknown_type = contact(4) | {"type": "contact.exploded"}
    events = [contact(1), contact(2), bad_email, contact(3), unknown_type]
    response = await client.post(PATH, json={"events": events})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["invalid_indexes"] == [2, 4]
    assert {(e["index"], e["field"]) for e in error["details"]["errors"]} == {
        (2, "data.email"),
        (4, "type"),
    }
    assert await stream_messages(nats_url, namespace) == []
    metrics = (await client.get("/metrics")).text
    assert 'gateway_crm_events_total{outcome="invalid"} 2.0' in metrics
    assert 'gateway_crm_batches_total{outcome="invalid"} 1.0' in metrics


async def test_batch_level_refusals(client, backend):
    empty = await client.post(PATH, json={"events": []})
    assert empty.status_code == 422
    assert empty.json()["error"]["details"]["errors"][0]["index"] is None
    too_many = await client.post(PATH, json={"events": [contact(1)] * 1001})
    assert too_many.status_code == 422
    assert (await client.post(PATH, json=[contact(1)])).status_code == 422
    garbage = await client.post(
        PATH, content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert garbage.status_code == 400
    assert garbage.json()["error"]["code"] == "bad_request"
    unauthenticated = await client.post(
        PATH, content=b"{nope", headers={"Authorization": "", "Content-Type": "application/json"}
    )
    assert unauthenticated.status_code == 401


async def test_the_ingest_path_has_its_own_larger_body_limit(client):
    """The fixture's general limit is 10 kB; a batch of 100 events (~15 kB) still fits."""
    events = [contact(n) for n in range(100)]
    assert len(json.dumps({"events": events})) > 10_000
    assert (await client.post(PATH, json={"events": events})).status_code == 202
    big = await client.post("/api/v1/portals", json={"title": "x" * 20_000})
    assert big.status_code == 413
    assert "CrmBatch" in (await client.get("/openapi.json")).json()["components"]["schemas"]


async def test_concurrent_first_batches_are_all_acknowledged(client, nats_url, namespace):
    """The first batches of a fresh gateway share one ack subscription and the in-flight
    bound; none loses another's acks."""
    bodies = [{"events": [contact(n * 100 + i) for i in range(100)]} for n in range(4)]
    responses = await asyncio.gather(*(client.post(PATH, json=body) for body in bodies))
    assert [r.status_code for r in responses] == [202] * 4
    assert sum(r.json()["accepted"] for r in responses) == 400
    assert len(await stream_messages(nats_url, namespace)) == 400
