"""Gateway test fixtures: a real gateway (uvicorn on a free port) on real NATS, and a
scriptable fake backend answering `<ns>.rpc.<service>.>` like the real services would."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import nats
import pytest
from gateway.bootstrap import start
from gateway.settings import Settings
from portal_contracts import Namespace
from portal_contracts.rpc import RpcError, RpcReply

API_KEY = "test-key-0123456789abcdef"
ACCOUNT = {"id": "acc1", "name": "Acme"}

Reply = RpcReply | Callable[[dict[str, Any]], RpcReply] | None


@dataclass
class Call:
    service: str
    op: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class FakeBackend:
    """`replies[(service, op)]` → an RpcReply, a function of the body, or None (stay silent)."""

    namespace: Namespace
    replies: dict[tuple[str, str], Reply] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)

    def ops(self, op: str) -> list[Call]:
        return [c for c in self.calls if c.op == op]

    async def handle(self, msg: Any) -> None:
        _, _, service, op = msg.subject.split(".", 3)
        body = json.loads(msg.data or b"{}")
        self.calls.append(Call(service, op, body, dict(msg.headers or {})))
        reply = self.replies.get((service, op), _default(op))
        if callable(reply):
            reply = reply(body)
        if reply is not None:
            await msg.respond(reply.model_dump_json().encode())


def _default(op: str) -> RpcReply | None:
    if op == "ping":
        return RpcReply.success({})
    if op == "auth.resolve_key":
        return None
    return RpcReply.failure(RpcError.of("not_found", f"no fake reply for {op}"))


def resolve_key(body: dict[str, Any]) -> RpcReply:
    if body.get("api_key") == API_KEY:
        return RpcReply.success(ACCOUNT)
    return RpcReply.failure(RpcError.of("unauthorized", "unknown key"))


def portal(version: int = 1, **fields: Any) -> dict[str, Any]:
    base = {
        "id": "p1",
        "title": "Help",
        "status": "draft",
        "version": version,
        "ticket_display": {"allow_close": False},
        "consent_notice": {"enabled": False},
        "support_form": {"enabled": True, "fields": []},
        "setup": {"missing": ["domain", "tickets", "access"]},
        "created_at": "2026-11-27T08:00:00Z",
        "updated_at": "2026-11-27T08:00:00Z",
    }
    return base | fields


@pytest.fixture
async def backend(nats_url: str, namespace: Namespace) -> AsyncIterator[FakeBackend]:
    fake = FakeBackend(namespace)
    fake.replies[("portal-config", "auth.resolve_key")] = resolve_key
    nc = await nats.connect(nats_url)
    await nc.subscribe(f"{namespace.name}.rpc.*.>", cb=fake.handle)
    await nc.flush()
    yield fake
    await nc.close()


@pytest.fixture
def gateway_settings(nats_url: str, namespace: Namespace) -> Settings:
    return Settings(
        nats_url=nats_url,
        namespace=namespace.name,
        port=0,
        rpc_timeout_seconds=0.5,
        ready_timeout_seconds=0.3,
        max_body_bytes=10_000,
    )


@pytest.fixture
async def client(
    backend: FakeBackend, gateway_settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    running = await start(gateway_settings)
    async with httpx.AsyncClient(
        base_url=running.url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=5
    ) as http:
        http.app = running.app  # type: ignore[attr-defined]
        yield http
    await running.stop()


@pytest.fixture
def make_portal() -> Callable[..., dict[str, Any]]:
    return portal
