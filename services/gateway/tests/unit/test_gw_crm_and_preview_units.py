"""CRM batch validation mapping, record encoding, the known-portals memory and the RPC
pass-through of result bytes."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from gateway.adapters.crm_stream import encode_record, msg_id, record_prefix
from gateway.adapters.rpc import RpcClient, RpcFailure
from gateway.application.known_portals import KnownPortals
from gateway.entrypoints.http.crm_ingest import parse_batch
from gateway.entrypoints.http.errors import ApiError
from gateway.observability import Metrics
from portal_contracts import Namespace
from portal_contracts.crm import CrmRecord


def event(n: int, **changes) -> dict:
    base = {
        "event_id": f"e{n}",
        "type": "ticket.contact_associated",
        "occurred_at": "2026-11-27T10:00:00+02:00",
        "data": {"ticket_id": f"t{n}", "contact_id": "c1"},
    }
    return base | changes


def refusal(events) -> ApiError:
    with pytest.raises(ApiError) as caught:
        parse_batch(json.dumps({"events": events}).encode())
    return caught.value


def test_each_invalid_event_is_named_by_index_and_field():
    error = refusal(
        [
            event(0),
            event(1, data={"ticket_id": "t 1", "contact_id": "c1"}),
            event(2, type="nope"),
            event(3, occurred_at="2026-11-27T10:00:00"),
            event(4, extra=1),
        ]
    )
    assert error.status == 422
    found = {(e["index"], e["field"]) for e in error.details["errors"]}
    assert found == {(1, "data.ticket_id"), (2, "type"), (3, "occurred_at"), (4, "extra")}
    assert error.details["invalid_indexes"] == [1, 2, 3, 4]


def test_batch_level_errors_have_no_index_and_bad_json_is_400():
    assert refusal([]).details["errors"][0]["index"] is None
    assert refusal([event(n) for n in range(1001)]).details["errors"][0]["field"] == "events"
    with pytest.raises(ApiError) as caught:
        parse_batch(b'{"events": [')
    assert caught.value.status == 400


def test_a_record_is_a_crm_record_of_the_account_and_its_msg_id_is_account_scoped():
    batch = parse_batch(json.dumps({"events": [event(1)]}).encode())
    record = CrmRecord.model_validate_json(encode_record(record_prefix("acc-1"), batch.events[0]))
    assert record.account_id == "acc-1"
    assert record.event == batch.events[0]
    assert record.event.occurred_at.isoformat() == "2026-11-27T08:00:00+00:00"
    assert msg_id("acc1", "e1") != msg_id("acc2", "e1")


def test_known_portals_remember_confirmed_pairs_only_within_bounds():
    known = KnownPortals(max_entries=2)
    known.add("a", "p1")
    assert ("a", "p1") in known
    assert ("b", "p1") not in known
    known.add("a", "p2")
    assert ("a", "p1") in known
    known.add("a", "p3")
    assert ("a", "p2") not in known
    assert ("a", "p1") in known


def client(reply: bytes) -> RpcClient:
    async def request(subject, payload, timeout, headers):
        return SimpleNamespace(data=reply)

    broker = SimpleNamespace(connection=SimpleNamespace(request=request))
    return RpcClient(broker, Namespace("t"), 1.0, Metrics())  # type: ignore[arg-type]


async def test_result_bytes_pass_through_or_are_re_encoded():
    canonical = b'{"ok":true,"result":{"items":[],"next_cursor":null},"error":null}'
    assert await client(canonical).call_json("s", "op", {}, "c") == (
        b'{"items":[],"next_cursor":null}'
    )
    spaced = b'{"ok": true, "error": null, "result": {"items": []}}'
    assert json.loads(await client(spaced).call_json("s", "op", {}, "c")) == {"items": []}
    failed = b'{"ok":false,"result":null,"error":{"code":"not_found","message":"x","status":404}}'
    with pytest.raises(RpcFailure):
        await client(failed).call_json("s", "op", {}, "c")
