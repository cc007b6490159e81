"""The gateway serves without NATS (503s, `/readyz` says why) and connects once NATS is up."""

import httpx
import nats
from devstack.infra import NatsServer, free_port
from devstack.testing import eventually
from gateway.bootstrap import start
from gateway.settings import Settings
from portal_contracts.rpc import RpcReply


async def test_gateway_waits_for_nats_and_then_becomes_ready(tmp_path):
    port = free_port()
    settings = Settings(
        nats_url=f"nats://127.0.0.1:{port}",
        port=0,
        required_services=[],
        startup_connect_seconds=0.2,
        ready_timeout_seconds=0.2,
    )
    running = await start(settings)
    server = None
    try:
        async with httpx.AsyncClient(base_url=running.url) as http:
            assert (await http.get("/healthz")).status_code == 200
            not_ready = await http.get("/readyz")
            assert not_ready.status_code == 503
            assert not_ready.json()["error"]["details"]["nats"] == "down"
            refused = await http.get(
                "/api/v1/account", headers={"Authorization": "Bearer " + "k" * 20}
            )
            assert refused.status_code == 503

            server = NatsServer(tmp_path / "nats", port=port).start()

            async def ready() -> bool:
                return (await http.get("/readyz")).status_code == 200

            await eventually(ready, timeout=15, interval=0.2)
    finally:
        await running.stop()
        if server is not None:
            server.stop()


async def test_crm_ingest_answers_503_when_nats_goes_away(tmp_path, namespace):
    """The key stays cached; the publish itself finds NATS gone → 503, nothing accepted."""
    server = NatsServer(tmp_path / "nats", port=free_port()).start()
    responder = await nats.connect(server.url)

    async def resolve(msg):
        await msg.respond(RpcReply.success({"id": "acc1", "name": "A"}).model_dump_json().encode())

    await responder.subscribe(namespace.rpc("portal-config", "auth.resolve_key"), cb=resolve)
    settings = Settings(
        nats_url=server.url,
        namespace=namespace.name,
        port=0,
        required_services=[],
        crm_ack_timeout_seconds=1,
    )
    running = await start(settings)
    event = {
        "event_id": "e1",
        "type": "company.deleted",
        "occurred_at": "2026-11-27T08:00:00Z",
        "data": {"company_id": "co1"},
    }
    try:
        async with httpx.AsyncClient(
            base_url=running.url, headers={"Authorization": "Bearer " + "k" * 20}, timeout=10
        ) as http:
            accepted = await http.post("/api/v1/crm/events", json={"events": [event]})
            assert accepted.status_code == 202, accepted.text
            await responder.close()
            server.stop()
            refused = await http.post("/api/v1/crm/events", json={"events": [event]})
            assert refused.status_code == 503
            assert refused.json()["error"]["code"] == "unavailable"
            assert "accepted" not in refused.json()
    finally:
        await running.stop()
        server.stop()
