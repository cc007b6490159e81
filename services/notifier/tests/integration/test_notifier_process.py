"""`python -m notifier` runs until SIGTERM and exits 0."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

import pytest
from devstack.testing import eventually


@pytest.mark.slow
async def test_process_answers_ping_and_stops_cleanly_on_sigterm(harness: Any) -> None:
    env = {
        **os.environ,
        "NOTIFIER_NATS_URL": harness.nats_url,
        "NOTIFIER_DATABASE_URL": harness.database_url,
        "NOTIFIER_NAMESPACE": harness.ns.name,
        "NOTIFIER_SMTP_URL": "smtp://127.0.0.1:1",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "notifier", env=env, stderr=asyncio.subprocess.PIPE
    )
    try:

        async def pong() -> bool:
            try:
                reply = await harness.nc.request(
                    harness.ns.rpc("notifier", "ping"), b"{}", timeout=0.5
                )
            except Exception:
                return False
            return b'"ok":true' in reply.data

        await eventually(pong, timeout=30, interval=0.2)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
        assert process.stderr is not None
        assert b"notifier_stopped" in await process.stderr.read()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
