"""Gateway benchmark (not a test): CRM ingest throughput, freshness and preview latency.

    .venv/bin/python services/gateway/bench/bench_gateway.py [--scale 0.01] [--seconds 10]

Starts portal-config, ticket-view and the gateway as separate processes (on NATS_URL /
DATABASE_URL, or embedded servers), sets up an account and a portal in `company` mode through
the admin API, then measures:

- ingest: ticket-view's benchmark data set (`services/ticket-view/bench/dataset.py`) sent
  through `POST /api/v1/crm/events` in batches of 1000 → batches/s, events/s;
- freshness: from an association's 202 to the ticket being in the preview list, while
  background ingest runs → p50/p99/max;
- preview latency: a contact seeing 2,000 tickets (company mode), 50 concurrent clients from
  a separate process (`wrk` when installed, else an httpx worker) → p50/p99, requests/s;
  plus ticket-view's `tickets.preview` straight over NATS for comparison;
- customer list latency: the same contact's own `GET /help/api/tickets` with a real session
  (invited by the admin API, token issued as the notifier does, activated by the customer
  API), same load and figures.

Every list is measured twice, once the CRM consumers have caught up: open loop at `--rate`
requests/s over the 50 connections (`*_open_loop`: latency from each request's due time) and
closed loop (`*_latency`: as fast as answers come, i.e. the saturation throughput).

Each latency block also carries every service's CPU milliseconds per request.

Prints the figures and writes `bench/results/gateway.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import nats
from devstack.infra import EmbeddedPostgres, NatsServer, create_database, drop_database, free_port
from nats.js.errors import NotFoundError
from portal_contracts import Namespace
from portal_contracts.config_rpc import EnsureAccount
from portal_contracts.member import IssueMemberToken
from portal_contracts.rpc import RpcReply

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "ticket-view" / "bench"))
import dataset  # noqa: E402
import loadgen  # noqa: E402

RESULTS = HERE / "results" / "gateway.json"
API_KEY = "bench-admin-key-0123456789"
FRESH_CONTACT = "c-fresh"
WARM_UP_SECONDS = 2.0
PORTAL_HOST = "bench.test"
PORTAL_SLUG = "help"
PASSWORD = "bench correct horse battery"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def ms(values: list[float]) -> dict[str, float]:
    return {
        "samples": len(values),
        "p50_ms": round(pct(values, 0.5) * 1000, 2),
        "p99_ms": round(pct(values, 0.99) * 1000, 2),
        "max_ms": round(max(values) * 1000, 2) if values else float("nan"),
        "mean_ms": round(statistics.fmean(values) * 1000, 2) if values else float("nan"),
    }


class Services:
    """portal-config, ticket-view and the gateway, each its own `python -m` process."""

    def __init__(self, nats_url: str, admin_url: str, ns: Namespace, logs: Path) -> None:
        self.ns = ns
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dbs = [f"gwb_pc_{uuid.uuid4().hex[:8]}", f"gwb_tv_{uuid.uuid4().hex[:8]}"]
        self.admin_url = admin_url
        pc_db, tv_db = (create_database(admin_url, name) for name in self.dbs)
        common = {"NATS_URL": nats_url, "PORTAL_NAMESPACE": ns.name}
        self.specs = {
            "portal_config": {
                "PORTAL_CONFIG_DATABASE_URL": pc_db,
                "PORTAL_CONFIG_LOG_LEVEL": "warning",
            },
            "ticket_view": {"TICKET_VIEW_DATABASE_URL": tv_db, "TICKET_VIEW_LOG_LEVEL": "WARNING"},
            "gateway": {
                "GATEWAY_PORT": str(self.port),
                "GATEWAY_LOG_LEVEL": "WARNING",
                "GATEWAY_REQUIRED_SERVICES": '["portal-config", "ticket-view"]',
            },
        }
        base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.infra: dict[str, int] = {}
        """Embedded servers' pids, by name, whose CPU is measured too."""
        for module, env in self.specs.items():
            log = (logs / f"{module}.log").open("wb")
            self.procs[module] = subprocess.Popen(
                [sys.executable, "-m", module],
                env=base | common | env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.url) as http:
            while time.monotonic() < deadline:
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise RuntimeError("the stack did not become ready")

    def profile(self, module: str, output: str) -> subprocess.Popen[bytes] | None:
        """py-spy (when on PATH) on one service: `.txt` → raw stacks, else a flame graph."""
        if not shutil.which("py-spy"):
            return None
        fmt = "raw" if output.endswith(".txt") else "flamegraph"
        pid = str(self.procs[module].pid)
        return subprocess.Popen(
            ["py-spy", "record", "-p", pid, "-o", output, "-r", "100", "-f", fmt]
        )

    def cpu_seconds(self) -> dict[str, float]:
        """User + system CPU time of each service process so far (Linux `/proc`), and of the
        embedded servers in `infra` (a server with all its children: PostgreSQL's backends)."""
        ticks = os.sysconf("SC_CLK_TCK")
        out = {}
        for module, proc in self.procs.items():
            fields = _stat(proc.pid)
            out[module] = (int(fields[11]) + int(fields[12])) / ticks
        for name, pid in self.infra.items():
            out[name] = _tree_ticks(pid) / ticks
        return out

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for module, proc in self.procs.items():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                print(f"{module} ignored SIGTERM for 30 s; killed", flush=True)
                proc.kill()
                proc.wait()
        for name in self.dbs:
            drop_database(self.admin_url, name)


def _stat(pid: int) -> list[str]:
    """`/proc/<pid>/stat` after the command name: index 1 is the parent pid, 11..14 are
    utime, stime, cutime, cstime."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _tree_ticks(pid: int) -> int:
    """CPU ticks of `pid`, of its reaped children and of its live children."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat(int(entry.name))
        except OSError:
            continue
        if int(entry.name) == pid:
            total += sum(int(f) for f in fields[11:15])
        elif int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total


async def ensure_account(nats_url: str, ns: Namespace) -> None:
    nc = await nats.connect(nats_url)
    try:
        body = EnsureAccount(name="bench", api_key=API_KEY).model_dump_json().encode()
        msg = await nc.request(ns.rpc("portal-config", "account.ensure"), body, timeout=10)
        assert RpcReply.model_validate_json(msg.data).ok, msg.data
    finally:
        await nc.close()


async def setup_portal(http: httpx.AsyncClient) -> tuple[str, str]:
    """An active portal in `company` mode → (portal id, account id)."""

    async def ok(method: str, path: str, body: Any = None) -> Any:
        response = await http.request(method, path, json=body)
        assert response.status_code in (200, 201), response.text
        return response.json()

    account = await ok("GET", "/api/v1/account")
    await ok("POST", "/api/v1/domains", {"domain": PORTAL_HOST, "primary_language": "en"})
    inbox = await ok("POST", "/api/v1/inboxes", {"name": "Support", "kind": "help_desk"})
    pid = (await ok("POST", "/api/v1/portals", {"title": "Bench"}))["id"]
    base = f"/api/v1/portals/{pid}"
    await ok("PUT", f"{base}/domain", {"domain": PORTAL_HOST, "slug": PORTAL_SLUG})
    tickets = {"default_inbox_id": inbox["id"], "visibility": {"mode": "company"}}
    await ok("PUT", f"{base}/tickets", tickets)
    await ok("PATCH", base, {"ticket_display": {"properties": ["sla"]}})
    await ok("PUT", f"{base}/access", {"mode": "open"})
    await ok("POST", f"{base}/activate")
    return str(pid), str(account["id"])


async def customer_cookie(
    http: httpx.AsyncClient, nats_url: str, ns: Namespace, account: str, pid: str, contact: str
) -> str:
    """A live session of `contact` → its `Cookie` header: the admin API invites (retried
    until portal-config knows the contact), the registration token is issued like the
    notifier does (`member.issue_token` for the `member.invited` event), the customer API
    activates."""
    deadline = time.monotonic() + 120
    while True:
        invited = await http.post(
            f"/api/v1/portals/{pid}/invitations", json={"contact_id": contact}
        )
        if invited.status_code == 202:
            break
        assert invited.status_code == 404 and time.monotonic() < deadline, invited.text
        await asyncio.sleep(0.5)
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        subject = ns.config_subject(account, "member.invited")
        while True:
            with contextlib.suppress(NotFoundError):
                event = json.loads((await js.get_last_msg(ns.config_stream, subject)).data)
                if event["data"]["contact_id"] == contact:
                    break
            assert time.monotonic() < deadline, "no member.invited event"
            await asyncio.sleep(0.2)
        issue = IssueMemberToken(
            account_id=account,
            portal_id=pid,
            contact_id=contact,
            purpose="registration",
            event_id=event["event_id"],
        )
        msg = await nc.request(
            ns.rpc("portal-config", issue.op), issue.model_dump_json().encode(), timeout=10
        )
        reply = RpcReply.model_validate_json(msg.data)
        assert reply.ok and isinstance(reply.result, dict), msg.data
        token = reply.result["token"]
    finally:
        await nc.close()
    async with httpx.AsyncClient(base_url=http.base_url, headers={"Host": PORTAL_HOST}) as visitor:
        activated = await visitor.post(
            f"/{PORTAL_SLUG}/api/activate", json={"token": token, "password": PASSWORD}
        )
    assert activated.status_code == 200, activated.text
    cookie = SimpleCookie(activated.headers["set-cookie"])
    return "; ".join(f"{name}={morsel.value}" for name, morsel in cookie.items())


def latency(
    stack: Services,
    args: argparse.Namespace,
    path: str,
    headers: dict[str, str],
    name: str,
    rate: float | None = None,
) -> dict[str, Any]:
    """`clients` connections on `path` for `seconds`: open loop at `rate` requests/s when
    given (after `WARM_UP_SECONDS` of the same load that are not counted: fresh connections,
    statements prepared per database connection), else closed loop (as fast as answers come:
    the saturation throughput); py-spy on
    `--profile-service` when this is `--profile-run` → latency figures + CPU ms per request."""
    profile_this = args.profile and name == args.profile_run
    profiler = stack.profile(args.profile_service, args.profile) if profile_this else None
    before = stack.cpu_seconds()
    if rate is None:
        result = loadgen.run(stack.url + path, headers, args.clients, args.seconds)
    else:
        loadgen.open_loop(stack.url + path, headers, args.clients, rate, WARM_UP_SECONDS)
        before = stack.cpu_seconds()
        result = loadgen.open_loop(stack.url + path, headers, args.clients, rate, args.seconds)
    after = stack.cpu_seconds()
    requests = result["requests"] or 1
    result["cpu_ms_per_request"] = {
        module: round((after[module] - before[module]) / requests * 1000, 2) for module in after
    }
    if profiler is not None:
        profiler.send_signal(signal.SIGINT)
        profiler.wait(timeout=60)
    print(name, result, flush=True)
    return result


def batches(scale: float, size: int = 1000) -> Iterator[bytes]:
    chunk: list[bytes] = []
    for _type, record in dataset.events(scale):
        chunk.append(json.dumps(json.loads(record)["event"]).encode())
        if len(chunk) == size:
            yield b'{"events":[' + b",".join(chunk) + b"]}"
            chunk = []
    if chunk:
        yield b'{"events":[' + b",".join(chunk) + b"]}"


RETRIED = [0]


async def post(http: httpx.AsyncClient, body: bytes) -> dict[str, Any]:
    """Like a well-behaved producer: a 503 (overload, NATS away) is retried after a second."""
    for _ in range(10):
        response = await http.post(
            "/api/v1/crm/events", content=body, headers={"Content-Type": "application/json"}
        )
        if response.status_code != 503:
            break
        RETRIED[0] += 1
        await asyncio.sleep(1)
    assert response.status_code == 202, response.text[:500]
    result: dict[str, Any] = response.json()
    return result


async def ingest(http: httpx.AsyncClient, bodies: list[bytes], concurrency: int) -> dict:
    queue = list(reversed(bodies))
    events = 0

    async def worker() -> None:
        nonlocal events
        while queue:
            result = await post(http, queue.pop())
            events += result["accepted"] + result["duplicates"]

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    return {
        "retried_503": RETRIED[0],
        "batches": len(bodies),
        "events": events,
        "concurrency": concurrency,
        "seconds": round(seconds, 2),
        "batches_per_s": round(len(bodies) / seconds, 1),
        "events_per_s": round(events / seconds),
    }


class Crm:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def event(self, type_: str, **data: Any) -> dict[str, Any]:
        self.now += timedelta(milliseconds=1)
        return {
            "event_id": uuid.uuid4().hex,
            "type": type_,
            "occurred_at": self.now.isoformat(),
            "data": data,
        }

    def ticket(self, tid: str) -> dict[str, Any]:
        at = self.now.isoformat()
        return self.event(
            "ticket.upserted",
            ticket_id=tid,
            subject=f"Fresh {tid}",
            pipeline="support",
            stage="new",
            status="open",
            created_at=at,
            updated_at=at,
        )


def body(*events: dict[str, Any]) -> bytes:
    return json.dumps({"events": list(events)}).encode()


async def newest(http: httpx.AsyncClient, pid: str) -> str | None:
    response = await http.get(
        f"/api/v1/portals/{pid}/preview",
        params={"contact_id": FRESH_CONTACT, "limit": 1, "sort": "-created_at"},
    )
    items = response.json().get("items") if response.status_code == 200 else None
    return items[0]["id"] if items else None


async def wait_visible(http: httpx.AsyncClient, pid: str, tid: str, timeout: float) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if await newest(http, pid) == tid:
            return time.perf_counter()
    raise RuntimeError(f"{tid} not visible within {timeout}s")


async def background(http: httpx.AsyncClient, crm: Crm, rate: int, stop: asyncio.Event) -> int:
    """~`rate` events/s of unrelated contact changes, in batches of rate/10 every 0.1 s."""
    sent, size = 0, max(1, rate // 10)
    while not stop.is_set():
        started = time.perf_counter()
        events = [
            crm.event("contact.upserted", contact_id=f"bg{sent + i}", email=f"bg{i}@example.com")
            for i in range(size)
        ]
        await post(http, body(*events))
        sent += size
        await asyncio.sleep(max(0.0, 0.1 - (time.perf_counter() - started)))
    return sent


async def freshness(http: httpx.AsyncClient, pid: str, samples: int, rate: int) -> dict:
    crm = Crm()
    stop = asyncio.Event()
    bg_http = httpx.AsyncClient(base_url=str(http.base_url), headers=http.headers, timeout=30)
    bg = asyncio.create_task(background(bg_http, crm, rate, stop))
    from_sent, from_accepted = [], []
    started = time.perf_counter()
    for i in range(samples):
        tid = f"tf{i}"
        await post(http, body(crm.ticket(tid)))
        link = crm.event("ticket.contact_associated", ticket_id=tid, contact_id=FRESH_CONTACT)
        sent = time.perf_counter()
        await post(http, body(link))
        accepted = time.perf_counter()
        visible = await wait_visible(http, pid, tid, 10)
        from_sent.append(visible - sent)
        from_accepted.append(visible - accepted)
        await asyncio.sleep(0.01)
    stop.set()
    background_events = await bg
    await bg_http.aclose()
    seconds = time.perf_counter() - started
    return {
        "from_accepted": ms(from_accepted),
        "from_request_sent": ms(from_sent),
        "background_events_per_s": round(background_events / seconds),
    }


async def settle(nats_url: str, ns: Namespace, timeout: float = 300) -> float:
    """Waits until every consumer of the CRM stream has caught up, so that the latency runs
    measure the list alone, not the list next to a projection still catching up."""
    started = time.perf_counter()
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    try:
        while time.perf_counter() - started < timeout:
            consumers = await js.consumers_info(ns.crm_stream)
            if all(c.num_pending == 0 and c.num_ack_pending == 0 for c in consumers):
                break
            await asyncio.sleep(0.5)
    finally:
        await nc.close()
    return round(time.perf_counter() - started, 1)


async def count_visible(http: httpx.AsyncClient, pid: str, contact: str) -> int:
    count, cursor = 0, None
    while True:
        params: dict[str, Any] = {"contact_id": contact, "limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = (await http.get(f"/api/v1/portals/{pid}/preview", params=params)).json()
        count += len(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return count


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="gw-bench-"))
    servers: list[Any] = []
    nats_url, admin_url = os.environ.get("NATS_URL"), os.environ.get("DATABASE_URL")
    if not nats_url:
        servers.append(NatsServer(tmp / "nats").start())
        nats_url = servers[-1].url
    if not admin_url:
        servers.append(EmbeddedPostgres(tmp / "pg").start())
        admin_url = servers[-1].url
    ns = Namespace(f"gwb{uuid.uuid4().hex[:8]}")
    stack = Services(nats_url, admin_url, ns, tmp)
    for server in servers:
        pid = server.pid if isinstance(server, EmbeddedPostgres) else server.process.pid
        if pid is not None:
            stack.infra["postgres" if isinstance(server, EmbeddedPostgres) else "nats"] = pid
    results: dict[str, Any] = {
        "scale": args.scale,
        "sizes": dataset.sizes(args.scale),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        await stack.ready()
        await ensure_account(nats_url, ns)
        headers = {"Authorization": f"Bearer {API_KEY}"}
        async with httpx.AsyncClient(base_url=stack.url, headers=headers, timeout=60) as http:
            pid, _account = await setup_portal(http)
            bodies = list(batches(args.scale))
            before = stack.cpu_seconds()
            results["ingest"] = await ingest(http, bodies, args.ingest_concurrency)
            after = stack.cpu_seconds()
            events = results["ingest"]["events"]
            results["ingest"]["cpu_us_per_event"] = {
                module: round((after[module] - before[module]) / events * 1e6, 1)
                for module in after
            }
            print("ingest", results["ingest"], flush=True)
            crm = Crm()
            marker = [
                crm.event("contact.upserted", contact_id=FRESH_CONTACT, email="f@example.com"),
                crm.ticket("t-marker"),
                crm.event("ticket.contact_associated", ticket_id="t-marker", contact_id="c-fresh"),
            ]
            sent = time.perf_counter()
            await post(http, body(*marker))
            await wait_visible(http, pid, "t-marker", 600)
            results["ingest"]["projection_caught_up_after_s"] = round(time.perf_counter() - sent, 2)
            visible = await count_visible(http, pid, dataset.BIG_CONTACT)
            results["big_contact_visible_tickets"] = visible
            print("caught up; big contact sees", visible, "tickets", flush=True)
            if not args.skip_freshness:
                results["freshness"] = await freshness(
                    http, pid, args.samples, args.background_rate
                )
                print("freshness", results["freshness"], flush=True)
            results["settled_after_s"] = await settle(nats_url, ns)
            path = f"/api/v1/portals/{pid}/preview?contact_id={dataset.BIG_CONTACT}&limit=20"
            cookie = await customer_cookie(http, nats_url, ns, _account, pid, dataset.BIG_CONTACT)
            customer = f"/{PORTAL_SLUG}/api/tickets?limit=20"
            customer_headers = {"Host": PORTAL_HOST, "Cookie": cookie}
            results["customer_list_open_loop"] = latency(
                stack, args, customer, customer_headers, "customer_list_open_loop", args.rate
            )
            results["preview_open_loop"] = latency(
                stack, args, path, headers, "preview_open_loop", args.rate
            )
            results["customer_list_latency"] = latency(
                stack, args, customer, customer_headers, "customer_list_latency"
            )
            results["preview_latency"] = latency(stack, args, path, headers, "preview_latency")
            results["ticket_view_direct"] = await loadgen.nats_preview(
                nats_url, ns, _account, pid, dataset.BIG_CONTACT, args.clients, args.seconds
            )
            print("ticket_view_direct", results["ticket_view_direct"], flush=True)
        results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {RESULTS}")
    finally:
        stack.stop()
        nc = await nats.connect(nats_url)
        for stream in (ns.crm_stream, ns.config_stream, ns.dlq_stream):
            with contextlib.suppress(Exception):
                await nc.jetstream().delete_stream(stream)
        await nc.close()
        for server in servers:
            server.stop()
        for data in ("nats", "pg"):
            shutil.rmtree(tmp / data, ignore_errors=True)
        print(f"service logs in {tmp}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--seconds", type=float, default=10.0, help="per latency run")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rate", type=float, default=500.0, help="open-loop requests/s")
    parser.add_argument("--samples", type=int, default=200, help="freshness samples")
    parser.add_argument("--background-rate", type=int, default=2000, help="events/s")
    parser.add_argument("--ingest-concurrency", type=int, default=4)
    parser.add_argument(
        "--profile",
        help="py-spy output for one service during one latency run (--profile-run)",
    )
    parser.add_argument(
        "--profile-run",
        default="preview_latency",
        choices=[
            "preview_latency",
            "customer_list_latency",
            "preview_open_loop",
            "customer_list_open_loop",
        ],
        help="the latency run --profile records",
    )
    parser.add_argument(
        "--profile-service",
        default="gateway",
        choices=["gateway", "ticket_view", "portal_config"],
        help="the service --profile samples",
    )
    parser.add_argument("--skip-freshness", action="store_true")
    parsed, _unknown = parser.parse_known_args()
    asyncio.run(main(parsed))
