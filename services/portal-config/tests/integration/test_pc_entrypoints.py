"""`python -m portal_config` runs until SIGTERM and exits 0; the operator CLI prints JSON."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

import httpx
from devstack.infra import free_port
from devstack.testing import eventually
from nats.aio.client import Client as NatsClient
from portal_config.adapters.accounts import PgAccountStore
from portal_config.adapters.db import open_pool
from portal_config.application.accounts import hash_api_key
from portal_contracts import Namespace
from portal_contracts.config_rpc import AccountView


def env(nats_url: str, database_url: str, namespace: Namespace) -> dict[str, str]:
    return {
        **os.environ,
        "NATS_URL": nats_url,
        "DATABASE_URL": database_url,
        "PORTAL_NAMESPACE": namespace.name,
    }


async def test_ensure_account_cli(pc_db: str, nats_url: str, namespace: Namespace) -> None:
    async def run(*args: str) -> dict[str, object]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "portal_config",
            "ensure-account",
            *args,
            env=env(nats_url, pc_db, namespace),
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await proc.communicate()
        assert proc.returncode == 0, out
        result: dict[str, object] = json.loads(out)
        return result

    given = "pk_" + "k" * 43
    result = await run("--name", "ops", "--api-key", given)
    assert result["api_key"] is None
    pool = await open_pool(pc_db, max_size=1)
    try:
        store = PgAccountStore(pool)
        assert (await store.account_by_key_hash(hash_api_key(given))) == AccountView.model_validate(
            result["account"]
        )
    finally:
        await pool.close()


async def test_service_runs_until_sigterm(
    pc_db: str, nats_url: str, namespace: Namespace, nc: NatsClient
) -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "portal_config",
        env={**env(nats_url, pc_db, namespace), "PORTAL_CONFIG_METRICS_PORT": str(port)},
    )
    try:

        async def answers_ping() -> bool:
            try:
                msg = await nc.request(namespace.rpc("portal-config", "ping"), b"{}", timeout=0.5)
            except Exception:
                return False
            return bool(json.loads(msg.data)["ok"])

        await eventually(answers_ping, timeout=20, interval=0.1)
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
        assert 'portal_config_rpc_requests_total{op="ping",outcome="ok"}' in metrics
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 15) == 0
