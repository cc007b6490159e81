"""Liveness, readiness and metrics.

`/healthz` is 200 whenever the process serves HTTP. `/readyz` is 200 only when NATS is
connected and every required service answers its `ping` op; else 503 naming what is down.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from faststream.nats import NatsBroker
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ...adapters.rpc import BadReply, RpcClient, RpcFailure, ServiceUnavailable
from .deps import correlation_id, rpc_client
from .errors import error_response

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _ping(rpc: RpcClient, service: str, cid: str, timeout: float) -> str:
    try:
        await rpc.call(service, "ping", {}, cid, timeout=timeout)
    except RpcFailure as exc:
        return exc.error.code
    except ServiceUnavailable:
        return "unavailable"
    except BadReply:
        return "bad_reply"
    return "ok"


@router.get("/readyz")
async def readyz(
    request: Request,
    rpc: Annotated[RpcClient, Depends(rpc_client)],
    cid: Annotated[str, Depends(correlation_id)],
) -> JSONResponse:
    broker: NatsBroker = request.app.state.broker
    settings = request.app.state.settings
    timeout = settings.ready_timeout_seconds
    nats_ok = await broker.ping(timeout=timeout)
    services: dict[str, str] = dict.fromkeys(settings.required_services, "unavailable")
    if nats_ok:
        answers = await asyncio.gather(
            *(_ping(rpc, name, cid, timeout) for name in settings.required_services)
        )
        services = dict(zip(settings.required_services, answers, strict=True))
    details: dict[str, Any] = {"nats": "ok" if nats_ok else "down", "services": services}
    if nats_ok and all(state == "ok" for state in services.values()):
        return JSONResponse({"status": "ready", **details})
    return error_response(503, "unavailable", "not ready", details)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
