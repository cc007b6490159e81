"""Gateways remember live sessions for a moment; a session ended through one gateway (or by
portal-config itself) ends on every gateway on the next request, not when that memory runs
out."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
from devstack.testing import eventually
from gateway.bootstrap import start as start_gateway
from gateway.settings import Settings as GatewaySettings

HOST = "support.acme.test"


async def test_ended_sessions_end_on_every_gateway(
    stack: Any, nats_url: str, namespace: Any
) -> None:
    admin, crm = stack.a, stack.a.crm
    pid = await admin.portal(HOST)
    await admin.ingest(crm.contact("c1", "ann@example.com"))
    ann = await stack.member(HOST, "ann@example.com")
    settings = GatewaySettings(
        nats_url=nats_url,
        namespace=namespace.name,
        port=0,
        session_cache_seconds=600,
        log_level="WARNING",
    )
    other = await start_gateway(settings)
    try:
        async with httpx.AsyncClient(base_url=other.url, timeout=15) as http:
            twin = dataclasses.replace(ann, http=http)

            async def refused() -> bool:
                return (await twin.call("GET", "me")).status_code == 401

            async def remembered() -> bool:
                return (await twin.call("GET", "me")).status_code == 200

            await eventually(remembered, timeout=10)
            assert (await ann.call("POST", "logout")).status_code == 204
            await eventually(refused, timeout=2)

            assert (await ann.login("ann@example.com")).status_code == 200
            twin = dataclasses.replace(ann, http=http)
            await eventually(remembered, timeout=10)
            assert (await admin.http.delete(f"/api/v1/portals/{pid}/members/c1")).status_code == 204
            await eventually(refused, timeout=2)
    finally:
        await other.stop()
