"""The gateway serves without NATS (503s, `/readyz` says why) and connects once NATS is up."""

import httpx
from devstack.infra import NatsServer, free_port
from devstack.testing import eventually
from gateway.bootstrap import start
from gateway.settings import Settings


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
