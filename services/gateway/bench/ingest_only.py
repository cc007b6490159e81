# ruff: noqa: ASYNC220
"""CRM ingest throughput of the gateway alone (no consumer competing for the CPU).

    .venv/bin/python services/gateway/bench/ingest_only.py [--batches 100] [--concurrency 4]

Runs `python -m gateway` as its own process on NATS_URL (or an embedded NATS), answers its
API-key look-up itself, posts batches of 1000 events and prints batches/s and events/s.
`--profile out.svg` records the gateway with py-spy (when on PATH) while it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import nats
from devstack.infra import NatsServer, free_port
from portal_contracts import Namespace
from portal_contracts.rpc import RpcReply


def batch(n: int, size: int) -> bytes:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    events = []
    for i in range(size):
        k = n * size + i
        at = (t0 + timedelta(seconds=k)).isoformat()
        events.append(
            {
                "event_id": f"i{uuid.uuid4().hex}",
                "type": "ticket.upserted",
                "occurred_at": at,
                "data": {
                    "ticket_id": f"t{k}",
                    "subject": f"Printer issue {k}",
                    "content": "Customer reports the printer is slow.",
                    "pipeline": "support",
                    "stage": "new",
                    "status": "open",
                    "priority": "high",
                    "created_at": at,
                    "updated_at": at,
                    "properties": {"sla": "gold"},
                },
            }
        )
    return json.dumps({"events": events}).encode()


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="gw-ingest-"))
    server = None
    nats_url = os.environ.get("NATS_URL")
    if not nats_url:
        server = NatsServer(tmp / "nats").start()
        nats_url = server.url
    ns = Namespace(f"gwi{uuid.uuid4().hex[:8]}")
    nc = await nats.connect(nats_url)

    async def resolve(msg: nats.aio.msg.Msg) -> None:
        await msg.respond(RpcReply.success({"id": "acc1", "name": "A"}).model_dump_json().encode())

    await nc.subscribe(ns.rpc("portal-config", "auth.resolve_key"), cb=resolve)
    port = free_port()
    env = os.environ | {
        "GATEWAY_NATS_URL": nats_url,
        "GATEWAY_NAMESPACE": ns.name,
        "GATEWAY_PORT": str(port),
        "GATEWAY_LOG_LEVEL": "WARNING",
        "GATEWAY_REQUIRED_SERVICES": "[]",
    }
    gateway = subprocess.Popen([sys.executable, "-m", "gateway"], env=env)
    bodies = [batch(n, args.size) for n in range(args.batches)]
    profiler = None
    try:
        headers = {"Authorization": "Bearer " + "k" * 24, "Content-Type": "application/json"}
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60
        ) as http:
            for _ in range(200):
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            await http.post("/api/v1/crm/events", content=batch(10_000, 10))
            if args.profile and shutil.which("py-spy"):
                fmt = "raw" if args.profile.endswith(".txt") else "flamegraph"
                command = ["py-spy", "record", "-p", str(gateway.pid), "-o", args.profile]
                profiler = subprocess.Popen([*command, "-r", "200", "-f", fmt])
                await asyncio.sleep(1)
            queue = list(bodies)
            events = 0

            async def worker() -> None:
                nonlocal events
                while queue:
                    response = await http.post("/api/v1/crm/events", content=queue.pop())
                    assert response.status_code == 202, response.text[:300]
                    events += sum(response.json().values())

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(args.concurrency)))
            seconds = time.perf_counter() - started
        result = {
            "batches": len(bodies),
            "batch_size": args.size,
            "concurrency": args.concurrency,
            "seconds": round(seconds, 2),
            "batches_per_s": round(len(bodies) / seconds, 1),
            "events_per_s": round(events / seconds),
        }
        print(json.dumps(result))
    finally:
        if profiler is not None:
            profiler.send_signal(2)
            profiler.wait(timeout=30)
        gateway.terminate()
        gateway.wait(timeout=30)
        await nc.jetstream().delete_stream(ns.crm_stream)
        await nc.close()
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--profile", help="py-spy output: .svg flame graph or .txt stacks")
    asyncio.run(main(parser.parse_args()))
