"""Published contracts never break: golden fixtures of every event keep parsing, unchanged."""

import json
from pathlib import Path

import pytest
from portal_contracts.crm import CRM_EVENT_TYPES, CrmBatch, CrmRecord
from portal_contracts.export import asyncapi, json_schemas
from portal_contracts.portal import PortalEvent
from pydantic import TypeAdapter, ValidationError

GOLDEN = Path(__file__).parent / "golden" / "v1"
PORTAL_EVENT = TypeAdapter(PortalEvent)


def _fixtures(prefix: str) -> list[Path]:
    return sorted(GOLDEN.glob(f"{prefix}.*.json"))


@pytest.mark.parametrize("path", _fixtures("crm"), ids=lambda p: p.stem)
def test_crm_fixture_parses_and_round_trips(path: Path) -> None:
    raw = json.loads(path.read_text())
    record = CrmRecord.model_validate(raw)
    assert record.event.type == raw["event"]["type"]
    assert CrmRecord.model_validate_json(record.model_dump_json()) == record


def test_every_crm_event_type_has_a_golden_fixture() -> None:
    covered = {json.loads(p.read_text())["event"]["type"] for p in _fixtures("crm")}
    assert covered == set(CRM_EVENT_TYPES)


@pytest.mark.parametrize("path", _fixtures("portal"), ids=lambda p: p.stem)
def test_portal_fixture_parses_and_round_trips(path: Path) -> None:
    raw = json.loads(path.read_text())
    event = PORTAL_EVENT.validate_python(raw)
    assert event.type == raw["type"]
    assert PORTAL_EVENT.validate_json(PORTAL_EVENT.dump_json(event)) == event


def test_unknown_event_type_and_version_are_refused() -> None:
    raw = json.loads((GOLDEN / "crm.contact.upserted.json").read_text())
    with pytest.raises(ValidationError):
        CrmRecord.model_validate({**raw, "event": {**raw["event"], "type": "contact.merged"}})
    with pytest.raises(ValidationError):
        CrmRecord.model_validate({**raw, "event": {**raw["event"], "schema_version": 2}})


def test_timestamps_without_timezone_are_refused() -> None:
    raw = json.loads((GOLDEN / "crm.contact.deleted.json").read_text())
    raw["event"]["occurred_at"] = "2026-11-01T10:00:00"
    with pytest.raises(ValidationError, match="timezone"):
        CrmRecord.model_validate(raw)


def test_a_batch_holds_one_to_a_thousand_events() -> None:
    event = json.loads((GOLDEN / "crm.contact.deleted.json").read_text())["event"]
    assert len(CrmBatch.model_validate({"events": [event] * 1000}).events) == 1000
    for size in (0, 1001):
        with pytest.raises(ValidationError):
            CrmBatch.model_validate({"events": [event] * size})


def test_json_schema_and_asyncapi_export_cover_the_streams() -> None:
    schemas = json_schemas()
    assert {"CrmRecord", "PortalEvent", "RpcReply"} <= set(schemas)
    channels = asyncapi()["channels"]
    assert {"crm-events", "portal-configuration-events"} <= set(channels)
