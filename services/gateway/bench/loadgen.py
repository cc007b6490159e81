"""Load for the gateway benchmark: a closed loop (`wrk` when installed, else this file as an
httpx worker process: `python loadgen.py URL SECONDS CLIENTS HEADERS_JSON`), an open loop at a
fixed rate (`openloop.py`), and a NATS request loop that asks ticket-view directly, for
comparison."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import nats
from portal_contracts import Namespace
from portal_contracts.ticket_view_rpc import PreviewTickets

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _wrk_ms(text: str) -> float:
    match = re.match(r"([0-9.]+)(us|ms|s)", text)
    assert match, text
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(url: str, headers: dict[str, str], clients: int, seconds: float) -> dict[str, Any]:
    command = ["wrk", "-t2", f"-c{clients}", f"-d{int(seconds)}s", "--latency", "--timeout", "5s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    dist = dict(re.findall(r"^\s*(50|75|90|99)%\s+([0-9.]+(?:us|ms|s))", out, re.M))
    if "99" not in dist:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)$", out, re.M)
    requests = re.search(r"(\d+) requests in", out)
    return {
        "tool": "wrk",
        "clients": clients,
        "seconds": seconds,
        "requests": int(requests.group(1)) if requests else None,
        "requests_per_s": float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": _wrk_ms(dist["50"]),
        "p90_ms": _wrk_ms(dist["90"]),
        "p99_ms": _wrk_ms(dist["99"]),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(1) if errors else None,
    }


def _summary(latencies: list[float], errors: int, seconds: float, clients: int) -> dict:
    ordered = sorted(latencies)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {
        "clients": clients,
        "seconds": round(seconds, 1),
        "requests": len(ordered),
        "requests_per_s": round(len(ordered) / seconds, 1),
        "p50_ms": at(0.5),
        "p90_ms": at(0.9),
        "p99_ms": at(0.99),
        "errors": errors,
    }


async def _httpx_load(url: str, headers: dict[str, str], clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=10) as http:
        deadline = time.perf_counter() + seconds

        async def client() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await http.get(url)
                if response.status_code != 200:
                    errors += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        return _summary(latencies, errors, time.perf_counter() - started, clients) | {
            "tool": "httpx"
        }


def run(url: str, headers: dict[str, str], clients: int, seconds: float) -> dict[str, Any]:
    """The load always comes from another process than the services and the bench."""
    if shutil.which("wrk"):
        return wrk(url, headers, clients, seconds)
    args = [sys.executable, __file__, url, str(seconds), str(clients), json.dumps(headers)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


async def nats_preview(
    nats_url: str,
    ns: Namespace,
    account_id: str,
    portal_id: str,
    contact_id: str,
    clients: int,
    seconds: float,
) -> dict[str, Any]:
    """ticket-view's `tickets.preview` straight over NATS: what the gateway adds on top."""
    nc = await nats.connect(nats_url)
    body = (
        PreviewTickets(account_id=account_id, portal_id=portal_id, contact_id=contact_id, limit=20)
        .model_dump_json()
        .encode()
    )
    subject = ns.rpc("ticket-view", "tickets.preview")
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            reply = await nc.request(subject, body, timeout=10)
            if b'"ok":true' not in reply.data:
                errors += 1
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    await nc.close()
    return _summary(latencies, errors, elapsed, clients) | {"tool": "nats-py"}


if __name__ == "__main__":
    target, duration, concurrency, header_json = sys.argv[1:5]
    summary = asyncio.run(
        _httpx_load(target, json.loads(header_json), int(concurrency), float(duration))
    )
    print(json.dumps(summary))


def open_loop(
    url: str, headers: dict[str, str], connections: int, rate: float, seconds: float
) -> dict[str, Any]:
    """`rate` requests/s spread over `connections`, latency from each request's due time
    (`openloop.py`, in its own process)."""
    script = str(Path(__file__).with_name("openloop.py"))
    args = [sys.executable, script, url, str(rate), str(connections), str(seconds)]
    out = subprocess.run([*args, json.dumps(headers)], capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result
