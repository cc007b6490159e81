"""`python -m gateway` serves until SIGTERM and then exits 0; settings come from the env."""

import asyncio
import os
import signal
import subprocess
import sys

import httpx
import pytest
from devstack.infra import free_port
from gateway.settings import MIB, Settings


def test_settings_read_the_environment(monkeypatch):
    monkeypatch.setenv("GATEWAY_PORT", "9123")
    monkeypatch.setenv("NATS_URL", "nats://10.0.0.1:4222")
    monkeypatch.setenv("PORTAL_NAMESPACE", "demo")
    monkeypatch.setenv("GATEWAY_REQUIRED_SERVICES", '["portal-config"]')
    settings = Settings()
    assert (settings.port, settings.nats_url, settings.namespace) == (
        9123,
        "nats://10.0.0.1:4222",
        "demo",
    )
    assert settings.required_services == ["portal-config"]
    assert (settings.host, settings.max_body_bytes) == ("127.0.0.1", MIB)
    monkeypatch.setenv("GATEWAY_NATS_URL", "nats://10.0.0.2:4222")
    assert Settings().nats_url == "nats://10.0.0.2:4222"


@pytest.mark.slow
async def test_python_m_gateway_serves_until_sigterm(nats_url, namespace):
    port = free_port()
    env = os.environ | {
        "GATEWAY_PORT": str(port),
        "NATS_URL": nats_url,
        "PORTAL_NAMESPACE": namespace.name,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(100):
                try:
                    response = await http.get("/healthz", headers={"X-Correlation-Id": "proc-1"})
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            assert response.status_code == 200
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.to_thread(process.communicate, timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert b'"correlation_id": "proc-1"' in stderr
    assert b'"event": "http_request"' in stderr
