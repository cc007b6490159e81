"""Accounts, admin API keys, domains and inboxes over real NATS; the RPC edge's error
handling; the bootstrap admin key."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from nats.aio.client import Client as NatsClient
from portal_config.bootstrap import Running, start
from portal_config.settings import Settings
from portal_contracts import Namespace

Rpc = Callable[..., Awaitable[dict[str, Any]]]
KEY = re.compile(r"^pk_[A-Za-z0-9_\-]{43}$")


async def ok(reply: Awaitable[dict[str, Any]]) -> Any:
    answer = await reply
    assert answer["ok"], answer
    return answer["result"]


async def code(reply: Awaitable[dict[str, Any]]) -> tuple[str, int]:
    answer = await reply
    assert not answer["ok"], answer
    return answer["error"]["code"], answer["error"]["status"]


async def test_ensure_account_is_idempotent_and_returns_a_new_key_once(
    rpc: Rpc, service: Running
) -> None:
    first = await ok(rpc("account.ensure", name="acme"))
    assert KEY.match(first["api_key"])
    again = await ok(rpc("account.ensure", name="acme"))
    assert again == {"account": first["account"], "api_key": None}
    resolved = await ok(rpc("auth.resolve_key", api_key=first["api_key"]))
    assert (
        resolved
        == first["account"]
        == await ok(rpc("account.get", account_id=first["account"]["id"]))
    )
    async with service.pool.connection() as conn:
        cur = await conn.execute("SELECT key_hash FROM api_keys")
        stored = [row[0] for row in await cur.fetchall()]
    assert stored == [hashlib.sha256(first["api_key"].encode()).hexdigest()]


async def test_ensure_account_attaches_a_given_key(rpc: Rpc) -> None:
    given = "pk_" + "a" * 43
    created = await ok(rpc("account.ensure", name="default", api_key=given))
    assert created["api_key"] is None
    assert await ok(rpc("auth.resolve_key", api_key=given)) == created["account"]
    other = "pk_" + "b" * 43
    assert (await ok(rpc("account.ensure", name="default", api_key=other)))["api_key"] is None
    assert await ok(rpc("auth.resolve_key", api_key=other)) == created["account"]
    assert await ok(rpc("auth.resolve_key", api_key=given)) == created["account"]
    assert await code(rpc("account.ensure", name="another", api_key=given)) == ("conflict", 409)


async def test_unknown_key_and_account(rpc: Rpc) -> None:
    assert await code(rpc("auth.resolve_key", api_key="pk_nope")) == ("unauthorized", 401)
    assert await code(rpc("account.get", account_id="nope")) == ("not_found", 404)
    assert await code(rpc("portal.create", account_id="nope", title="X")) == ("not_found", 404)
    assert await code(rpc("domain.list", account_id="nope")) == ("not_found", 404)


async def test_domains_and_inboxes_per_account(rpc: Rpc) -> None:
    a = (await ok(rpc("account.ensure", name="a")))["account"]["id"]
    b = (await ok(rpc("account.ensure", name="b")))["account"]["id"]
    dom = {"domain": "help.acme.com", "primary_language": "pt-BR"}
    assert await ok(rpc("domain.add", account_id=a, **dom)) == {**dom, "system": False}
    assert await code(rpc("domain.add", account_id=a, **dom)) == ("conflict", 409)
    await ok(rpc("domain.add", account_id=b, domain="help.globex.com", primary_language="en"))
    await ok(rpc("domain.add", account_id=a, domain="localhost:8000", primary_language="en"))
    domains = (await ok(rpc("domain.list", account_id=a)))["items"]
    assert [d["domain"] for d in domains] == ["help.acme.com", "localhost:8000"]
    inbox = await ok(rpc("inbox.create", account_id=a, name="Desk", kind="help_desk"))
    assert re.fullmatch(r"[0-9a-f]{32}", inbox["id"])
    assert (await ok(rpc("inbox.list", account_id=a)))["items"] == [inbox]
    assert (await ok(rpc("inbox.list", account_id=b)))["items"] == []
    assert await code(rpc("inbox.create", account_id=a, name="X", kind="mailbox")) == (
        "validation_error",
        422,
    )


async def test_a_domain_of_its_own_belongs_to_one_account(rpc: Rpc) -> None:
    """A non-system domain is never connected to two accounts; system domains are shared."""
    a, b, c = [(await ok(rpc("account.ensure", name=n)))["account"]["id"] for n in "abc"]
    own = {"domain": "help.acme.com", "primary_language": "en"}
    shared = {"domain": "portal.example.net", "primary_language": "en", "system": True}
    await ok(rpc("domain.add", account_id=a, **own))
    assert await code(rpc("domain.add", account_id=b, **own)) == ("conflict", 409)
    assert await code(rpc("domain.add", account_id=b, **own, system=True)) == ("conflict", 409)
    await ok(rpc("domain.add", account_id=a, **shared))
    await ok(rpc("domain.add", account_id=b, **shared))
    assert await code(rpc("domain.add", account_id=c, **{**shared, "system": False})) == (
        "conflict",
        409,
    )
    assert (await ok(rpc("domain.list", account_id=c)))["items"] == []
    results = await asyncio.gather(
        *[
            rpc("domain.add", account_id=x, domain="race.example.com", primary_language="en")
            for x in (a, b, c)
        ]
    )
    assert sorted(r["ok"] for r in results) == [False, False, True]


async def test_bad_requests_get_clear_errors(
    service: Running, nc: NatsClient, namespace: Namespace
) -> None:
    async def raw(op: str, data: bytes) -> dict[str, Any]:
        msg = await nc.request(namespace.rpc("portal-config", op), data, timeout=5)
        reply: dict[str, Any] = json.loads(msg.data)
        return reply

    assert (await raw("ping", b""))["ok"]
    for op, data in [
        ("account.get", b"{not json"),
        ("account.get", b"[1, 2]"),
        ("account.get", b'{"op": "account.ensure", "name": "x"}'),
        ("account.get", b'{"account_id": "has space"}'),
        ("nope.nothing", b"{}"),
    ]:
        reply = await raw(op, data)
        assert reply["error"]["code"] == "validation_error", (op, data, reply)
        assert reply["error"]["status"] == 422
    created = await raw("account.ensure", b'{"name": "without op field"}')
    assert created["ok"]


async def test_bootstrap_admin_key_ensures_the_default_account(
    nats_url: str, pc_db: str, namespace: Namespace, nc: NatsClient
) -> None:
    key = "pk_" + "z" * 43
    settings = Settings(
        nats_url=nats_url, database_url=pc_db, namespace=namespace.name, bootstrap_admin_key=key
    )
    for _ in range(2):
        running = await start(settings)
        await running.stop()
    running = await start(settings)
    try:
        msg = await nc.request(
            namespace.rpc("portal-config", "auth.resolve_key"),
            json.dumps({"api_key": key}).encode(),
            timeout=5,
        )
        assert json.loads(msg.data)["result"]["name"] == "default"
    finally:
        await running.stop()


async def test_an_unexpected_error_is_answered_500_and_the_subscriber_lives_on(
    nats_url: str, pc_db: str, namespace: Namespace, nc: NatsClient
) -> None:
    def broken_clock() -> Any:
        raise RuntimeError("clock exploded")

    running = await start(
        Settings(nats_url=nats_url, database_url=pc_db, namespace=namespace.name),
        clock=broken_clock,
    )

    async def call(op: str, **body: Any) -> dict[str, Any]:
        msg = await nc.request(
            namespace.rpc("portal-config", op), json.dumps(body).encode(), timeout=5
        )
        reply: dict[str, Any] = json.loads(msg.data)
        return reply

    try:
        aid = (await call("account.ensure", name="x"))["result"]["account"]["id"]
        failed = await call("portal.create", account_id=aid, title="T")
        assert failed["error"] == {
            "code": "internal",
            "message": "internal error",
            "status": 500,
            "details": {},
        }
        assert (await call("ping"))["ok"]
        assert (await call("portal.list", account_id=aid))["result"] == {"items": []}
    finally:
        await running.stop()
