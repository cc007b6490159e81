"""CRM ingest: `POST /api/v1/crm/events` — validate the whole batch, then publish it.

Business rules:
- The batch is all or nothing: one invalid event → 422 naming the index of every invalid
  event (`details.errors: [{index, field, message}]`) and nothing is published.
- Events belong to the key's account; each is published as `CrmRecord` on
  `<ns>.crm.v1.<account>.<type>` with `Nats-Msg-Id = event_id`.
- 202 `{accepted, duplicates}` only once JetStream acknowledged every event: `duplicates`
  counts events the stream already had (re-sent, or repeated within the batch), `accepted`
  the others; together they are the batch size. No ack → 503, nothing claimed accepted.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from portal_contracts.crm import CRM_EVENT_TYPES, MAX_BATCH, CrmBatch
from pydantic import BaseModel, ValidationError

from ...adapters.crm_stream import CrmPublisher, StreamUnavailable
from ...observability import Metrics
from .auth import CurrentAccount
from .errors import ApiError, documented

PATH = "/api/v1/crm/events"
MAX_REPORTED_ERRORS = 2000

router = APIRouter(tags=["CRM ingest"], responses=documented(401, 503))


class IngestResult(BaseModel):
    accepted: int
    duplicates: int


def batch_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic errors → `[{index, field, message}]`; `index` is null for batch-level errors
    (no events, more than 1000, not an object). The union tag is left out of `field`."""
    items: list[dict[str, Any]] = []
    for err in exc.errors(include_url=False, include_context=False, include_input=False):
        loc = list(err.get("loc", ()))
        index = None
        if len(loc) >= 2 and loc[0] == "events" and isinstance(loc[1], int):
            index, loc = loc[1], loc[2:]
            if loc and loc[0] in CRM_EVENT_TYPES:
                loc = loc[1:]
            if err.get("type") in ("union_tag_invalid", "union_tag_not_found"):
                loc = ["type"]
        items.append(
            {
                "index": index,
                "field": ".".join(str(part) for part in loc),
                "message": str(err.get("msg", "")),
            }
        )
        if len(items) >= MAX_REPORTED_ERRORS:
            break
    return items


def parse_batch(body: bytes) -> CrmBatch:
    try:
        return CrmBatch.model_validate_json(body)
    except ValidationError as exc:
        if any(err.get("type") == "json_invalid" for err in exc.errors()):
            raise ApiError(400, "bad_request", "the request body is not valid JSON") from None
        errors = batch_errors(exc)
        indexes = sorted({e["index"] for e in errors if e["index"] is not None})
        message = (
            f"{len(indexes)} invalid event(s), none accepted"
            if indexes
            else f"the batch must be {{events: [CrmEvent]}} with 1..{MAX_BATCH} events"
        )
        raise ApiError(
            422, "validation_error", message, {"errors": errors, "invalid_indexes": indexes}
        ) from None


@router.post(
    PATH,
    status_code=202,
    response_model=IngestResult,
    responses=documented(400, 413, 415, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CrmBatch"}}},
        }
    },
)
async def ingest(request: Request, account: CurrentAccount) -> JSONResponse:
    """Validates the whole batch (≤ 1000 events), publishes it to the CRM stream and answers
    once every event is acknowledged."""
    metrics: Metrics = request.app.state.metrics
    publisher: CrmPublisher = request.app.state.crm_publisher
    try:
        batch = parse_batch(await request.body())
    except ApiError as exc:
        metrics.crm_batches.labels("invalid").inc()
        metrics.crm_events.labels("invalid").inc(len(exc.details.get("invalid_indexes", [])))
        raise
    started = time.perf_counter()
    try:
        published = await publisher.publish(account.id, batch.events)
    except StreamUnavailable as exc:
        metrics.crm_batches.labels("unavailable").inc()
        raise ApiError(
            503,
            "unavailable",
            "the CRM stream did not acknowledge the batch; nothing is claimed accepted, "
            "send it again (event ids make it safe)",
            {"reason": str(exc)},
            headers={"Retry-After": "1"},
        ) from exc
    metrics.crm_publish_latency.observe(time.perf_counter() - started)
    metrics.crm_batches.labels("accepted").inc()
    metrics.crm_events.labels("accepted").inc(published.accepted)
    metrics.crm_events.labels("duplicate").inc(published.duplicates)
    return JSONResponse(
        {"accepted": published.accepted, "duplicates": published.duplicates}, status_code=202
    )
