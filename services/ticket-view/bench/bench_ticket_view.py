# ruff: noqa: ASYNC110, ASYNC220, S110
"""ticket-view benchmark (not a test): projection throughput against a bare pull/ack loop and
a bare batched insert, rebuild time, and tickets.list latency over NATS request/reply.

    .venv/bin/python services/ticket-view/bench/bench_ticket_view.py --scale 0.1

Uses NATS_URL / DATABASE_URL (admin URL; a scratch database is created) or the embedded
servers. Writes bench/results/ticket-view.json and prints the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import nats
from devstack.infra import EmbeddedPostgres, NatsServer, create_database, drop_database
from nats.js.api import AckPolicy, ConsumerConfig
from portal_contracts import Namespace
from ticket_view.adapters import db
from ticket_view.adapters.crm_writer import copy_sql, copy_text, prepare_session
from ticket_view.adapters.jetstream import PullFeed, ensure_streams, start_consumer_at
from ticket_view.adapters.schema import create_schema, drop_schema
from ticket_view.application.projection import StreamMessage, plan_crm
from ticket_view.bootstrap import start
from ticket_view.entrypoints.rebuild import rebuild
from ticket_view.settings import Settings

sys.path.insert(0, str(Path(__file__).parent))
import dataset

RESULTS = Path(__file__).parent / "results" / "ticket-view.json"


async def publish(nc: Any, ns: Namespace) -> tuple[int, float]:
    """Core-NATS publishes into the stream (flushed in chunks), then checks the count."""
    js = nc.jetstream()
    started = time.perf_counter()
    count = 0
    for type_, body in dataset.events(ARGS.scale):
        await nc.publish(ns.crm_subject(dataset.ACCOUNT, type_), body)
        count += 1
        if count % 2000 == 0:
            await nc.flush()
            while (await js.stream_info(ns.crm_stream)).state.messages < count - 20_000:
                await asyncio.sleep(0.01)
    await nc.flush()
    for event in dataset.portal_events():
        await js.publish(
            ns.config_subject(dataset.ACCOUNT, event["type"]), json.dumps(event).encode()
        )
    while (await js.stream_info(ns.crm_stream)).state.messages < count:
        await asyncio.sleep(0.05)
    return count, time.perf_counter() - started


async def bare_fetch_ack(nc: Any, ns: Namespace, total: int) -> dict[str, float]:
    """Two baselines without any processing: fetch(1000) + ack each; feed + ack-all."""
    js = nc.jetstream()
    out = {}
    sub = await js.pull_subscribe(
        ns.crm_subjects,
        durable="bench-explicit",
        stream=ns.crm_stream,
        config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, max_ack_pending=20_000),
    )
    started, seen = time.perf_counter(), 0
    while seen < total:
        for msg in await sub.fetch(1000, timeout=5):
            await msg.ack()
            seen += 1
    out["fetch_ack_each_per_s"] = seen / (time.perf_counter() - started)
    await sub.unsubscribe()
    await start_consumer_at(js, ns.crm_stream, "bench-all", 0, 4000)
    feed = PullFeed(nc, ns.crm_stream, "bench-all", 1000)
    await feed.start()
    started, seen = time.perf_counter(), 0
    while seen < total:
        batch = await feed.take(5)
        if batch:
            await batch[-1].ack()
            seen += len(batch)
    out["feed_ack_all_per_s"] = seen / (time.perf_counter() - started)
    await feed.stop()
    return out


CLOCK = os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int | None) -> float:
    """CPU seconds of a process and its children, live ones and reaped ones (PostgreSQL
    backends, NATS): robust where wall-clock throughput on a shared machine is not."""
    if pid is None:
        return 0.0

    def stat(p: int | str) -> list[str]:
        text = Path(f"/proc/{p}/stat").read_text()
        return text[text.rindex(")") + 2 :].split()

    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = stat(entry.name)
        except OSError:
            continue
        if int(entry.name) == pid:
            total += sum(int(v) for v in fields[11:15])
        elif int(fields[1]) == pid:
            total += sum(int(v) for v in fields[11:13])
    return total / CLOCK


def workers_cpu() -> float:
    """CPU seconds of this process's live multiprocessing workers (the projector's)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
            fields = text[text.rindex(")") + 2 :].split()
            if int(fields[1]) != os.getpid():
                continue
            if b"multiprocessing" not in (entry / "cmdline").read_bytes():
                continue
        except OSError:
            continue
        total += sum(int(v) for v in fields[11:13]) / CLOCK
    return total


class CpuMeter:
    """CPU seconds spent by this process and by the database and NATS servers in a phase."""

    def __init__(self) -> None:
        self._start = self._now()

    @staticmethod
    def _now() -> tuple[float, float, float]:
        import resource

        own = resource.getrusage(resource.RUSAGE_SELF)
        reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
        mine = own.ru_utime + own.ru_stime + reaped.ru_utime + reaped.ru_stime
        return mine + workers_cpu(), tree_cpu(PIDS.get("pg")), tree_cpu(PIDS.get("nats"))

    def per_event(self, events: int) -> dict[str, float]:
        now = self._now()
        names = ("ticket_view", "postgres", "nats")
        return {
            f"{name}_cpu_us_per_event": round(1e6 * (b - a) / max(events, 1), 1)
            for name, a, b in zip(names, self._start, now, strict=True)
        }


PIDS: dict[str, int | None] = {}


def load() -> str:
    """The 1/5/15-minute load averages: the machine is shared, figures need them next to them."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def bare_insert(url: str, sample: int) -> dict[str, Any]:
    """Parse + collapse cost, and the database write ceiling for the same rows: the winners of
    each batch COPied straight into the real tables (indexes included, no temp table, no
    last-writer-wins merge, no ticket fields on association rows), one transaction per batch,
    the projector's session settings."""
    bodies = [b for _, b in zip(range(sample), dataset.events(ARGS.scale), strict=False)]
    messages = [StreamMessage(i + 1, "s", body[1]) for i, body in enumerate(bodies)]
    size = ARGS.batch_size
    load_before = load()
    started = time.perf_counter()
    plans = [plan_crm(messages[i : i + size]) for i in range(0, len(messages), size)]
    parse_s = time.perf_counter() - started
    conn = await db.connect(url, autocommit=True)
    await drop_schema(conn)
    await create_schema(conn)
    await prepare_session(conn)
    rows = sum(len(r) for plan in plans for r in plan.changes.values())
    started = time.perf_counter()
    for plan in plans:
        async with conn.transaction():
            for table, changes in plan.changes.items():
                async with conn.cursor().copy(copy_sql(table, table)) as copy:
                    await copy.write(copy_text(table, changes))
    write_s = time.perf_counter() - started
    await drop_schema(conn)
    await conn.close()
    return {
        "sample_events": len(messages),
        "rows_written": rows,
        "batch_size": size,
        "parse_collapse_per_s": len(messages) / parse_s,
        "batched_insert_per_s": len(messages) / write_s,
        "load_before": load_before,
        "load_after": load(),
    }


async def project(settings: Settings, total: int) -> dict[str, float]:
    conn = await db.connect(settings.database_url, autocommit=True)
    await drop_schema(conn)
    await conn.close()
    load_before = load()
    meter = CpuMeter()
    started = time.perf_counter()
    running = await start(settings.model_copy(update={"rpc_enabled": False}))
    try:
        await running.projectors["crm"].wait_for(total, timeout=7200)
    finally:
        await running.stop()
    seconds = time.perf_counter() - started
    return {
        "events": total,
        "seconds": seconds,
        "events_per_s": total / seconds,
        "batch_size": settings.batch_size,
        "load_before": load_before,
        "load_after": load(),
        **meter.per_event(total),
    }


def ratios(results: dict[str, Any]) -> dict[str, float]:
    """Projection and rebuild against the smaller of the two raw limits of the same run."""
    limit = min(
        results["baseline_nats"]["feed_ack_all_per_s"],
        results["baseline_db"]["batched_insert_per_s"],
    )
    return {
        "raw_limit_per_s": round(limit),
        "projection_over_limit": round(results["projection"]["events_per_s"] / limit, 3),
        "rebuild_over_limit": round(results["rebuild"]["events_per_second"] / limit, 3),
    }


async def latency(settings: Settings, rate: int, seconds: float) -> dict[str, Any]:
    env = {
        **os.environ,
        "TICKET_VIEW_NATS_URL": settings.nats_url,
        "TICKET_VIEW_DATABASE_URL": settings.database_url,
        "TICKET_VIEW_NAMESPACE": settings.namespace,
        "TICKET_VIEW_LOG_LEVEL": "WARNING",
    }
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "ticket_view"],
            env={**env, "TICKET_VIEW_PROJECTOR_ENABLED": "true" if i == 0 else "false"},
        )
        for i in range(ARGS.processes)
    ]
    nc = await nats.connect(settings.nats_url)
    ns = Namespace(settings.namespace)
    subject = ns.rpc("ticket-view", "tickets.list")
    base = {
        "account_id": dataset.ACCOUNT,
        "portal_id": dataset.PORTAL,
        "contact_id": dataset.BIG_CONTACT,
    }
    try:
        for _ in range(100):
            try:
                reply = json.loads(
                    (await nc.request(subject, json.dumps(base).encode(), timeout=1)).data
                )
                if reply["ok"] and reply["result"]["items"]:
                    break
            except Exception:
                pass
            await asyncio.sleep(0.2)
        first = reply["result"]
        cursors = [first["next_cursor"]]
        for _ in range(20):
            page = json.loads(
                (
                    await nc.request(
                        subject, json.dumps({**base, "cursor": cursors[-1]}).encode(), timeout=5
                    )
                ).data
            )
            cursors.append(page["result"]["next_cursor"])
        rng = random.Random(1)
        kinds = {
            "first_page": base,
            "q": {**base, "q": "printer"},
            "closed": {**base, "status": "closed"},
        }
        samples: dict[str, list[float]] = {"first_page": [], "next_page": [], "q": [], "closed": []}

        errors = shed = 0

        async def one(kind: str, body: dict, due: float) -> None:
            nonlocal errors, shed
            try:
                reply = await nc.request(subject, json.dumps(body).encode(), timeout=5)
            except Exception:
                errors += 1
                return
            if not json.loads(reply.data)["ok"]:
                shed += 1
                return
            samples[kind].append(time.perf_counter() - due)

        tasks = []
        started = time.perf_counter()
        for i in range(int(rate * seconds)):
            due = started + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            roll = rng.random()
            if roll < 0.6:
                kind, body = "first_page", kinds["first_page"]
            elif roll < 0.85:
                kind, body = "next_page", {**base, "cursor": rng.choice(cursors[:-1])}
            elif roll < 0.95:
                kind, body = "closed", kinds["closed"]
            else:
                kind, body = "q", kinds["q"]
            tasks.append(asyncio.create_task(one(kind, body, due)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    finally:
        await nc.close()
        for server in servers:
            server.terminate()
            server.wait(10)

    def pct(values: list[float], p: float) -> float:
        ordered = sorted(values)
        return (
            round(1000 * ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)
            if ordered
            else 0.0
        )

    everything = [v for vs in samples.values() for v in vs]
    return {
        "target_rps": rate,
        "achieved_rps": round(len(everything) / elapsed, 1),
        "errors": errors,
        "shed": shed,
        "server_processes": ARGS.processes,
        "visible_tickets": dataset.BIG_TICKETS,
        "p50_ms": pct(everything, 0.5),
        "p99_ms": pct(everything, 0.99),
        "by_kind": {
            k: {"n": len(v), "p50_ms": pct(v, 0.5), "p99_ms": pct(v, 0.99)}
            for k, v in samples.items()
        },
    }


async def explain(url: str) -> list[str]:
    from portal_contracts.ticket_view_rpc import ListTickets
    from ticket_view.adapters.read_model import PgReadModel, list_params, list_sql
    from ticket_view.application.queries import TicketQuery
    from ticket_view.domain.visibility import Reach

    query = TicketQuery(
        dataset.ACCOUNT,
        Reach(dataset.BIG_CONTACT, dataset.BIG_COMPANY),
        None,
        None,
        None,
        "updated_at",
        True,
        None,
        21,
    )
    _ = (ListTickets, PgReadModel)
    conn = await db.connect(url, autocommit=True)
    cur = await conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + list_sql(query), list_params(query))
    lines = [row[0] for row in await cur.fetchall()]
    await conn.close()
    return lines


async def latency_only(url: str, namespace: str) -> None:
    """Latency against an existing (kept) data set."""
    settings = Settings(
        nats_url=os.environ.get("NATS_URL", "nats://127.0.0.1:4222"),
        database_url=url,
        namespace=namespace,
        log_level="WARNING",
    )
    measured = []
    for rate in ARGS.rate:
        measured.append(await latency(settings, rate, ARGS.seconds))
        print(json.dumps(measured[-1]), flush=True)
    if ARGS.record:
        results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        results.setdefault("list_latency", []).extend(measured)
        RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")


async def main() -> None:
    if ARGS.reuse:
        await latency_only(*ARGS.reuse)
        return
    tmp = Path(tempfile.mkdtemp(prefix="tv-bench-"))
    nats_url = os.environ.get("NATS_URL")
    admin_url = os.environ.get("DATABASE_URL")
    servers: list[Any] = []
    if not nats_url:
        servers.append(NatsServer(tmp / "nats").start())
        nats_url = servers[-1].url
        PIDS["nats"] = servers[-1].process.pid
    if not admin_url:
        servers.append(EmbeddedPostgres(tmp / "pg").start())
        admin_url = servers[-1].url
        PIDS["pg"] = servers[-1].pid
    name = f"tvbench_{uuid.uuid4().hex[:8]}"
    url = create_database(admin_url, name)
    ns = Namespace(f"tvb{uuid.uuid4().hex[:8]}")
    settings = Settings(
        nats_url=nats_url,
        database_url=url,
        namespace=ns.name,
        log_level="WARNING",
        batch_size=ARGS.batch_size,
    )
    nc = await nats.connect(nats_url)
    results: dict[str, Any] = {"scale": ARGS.scale, "sizes": dataset.sizes(ARGS.scale)}
    try:
        await ensure_streams(nc.jetstream(), ns)
        total, seconds = await publish(nc, ns)
        results["publish"] = {
            "events": total,
            "seconds": round(seconds, 1),
            "per_s": round(total / seconds),
        }
        print("published", results["publish"], flush=True)
        load_before = load()
        results["baseline_nats"] = await bare_fetch_ack(nc, ns, min(total, 500_000))
        results["baseline_nats"].update(load_before=load_before, load_after=load())
        print("baseline_nats", results["baseline_nats"], flush=True)
        results["baseline_db"] = await bare_insert(url, min(total, 200_000))
        print("baseline_db", results["baseline_db"], flush=True)
        results["projection"] = await project(settings, total)
        print("projection", results["projection"], flush=True)
        load_before = load()
        meter = CpuMeter()
        results["rebuild"] = await rebuild(settings, timeout=7200)
        results["rebuild"].update(
            load_before=load_before,
            load_after=load(),
            **meter.per_event(results["rebuild"]["events"]),
        )
        results["ratios"] = ratios(results)
        print("ratios", results["ratios"], flush=True)
        print("rebuild", results["rebuild"], flush=True)
        results["explain_list_company_2000"] = await explain(url)
        print("\n".join(results["explain_list_company_2000"]), flush=True)
        results["list_latency"] = []
        if ARGS.skip_latency and RESULTS.exists():
            earlier = json.loads(RESULTS.read_text())
            results["list_latency_earlier_run"] = earlier.get(
                "list_latency_earlier_run", earlier.get("list_latency", [])
            )
        for rate in [] if ARGS.skip_latency else ARGS.rate:
            measured = await latency(settings, rate, ARGS.seconds)
            results["list_latency"].append(measured)
            print("list_latency", measured, flush=True)
        out = Path(ARGS.out) if ARGS.out else RESULTS
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"wrote {out}")
    finally:
        if ARGS.keep:
            print(f"kept database {url} and namespace {ns.name}")
        else:
            for stream in (ns.crm_stream, ns.config_stream, ns.dlq_stream):
                await nc.jetstream().delete_stream(stream)
            drop_database(admin_url, name)
        await nc.close()
        for server in servers:
            server.stop()
        if not ARGS.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--rate", type=int, nargs="+", default=[200, 500])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--keep", action="store_true", help="keep the database and streams")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--record", action="store_true", help="with --reuse: add to results")
    parser.add_argument("--reuse", nargs=2, metavar=("DATABASE_URL", "NAMESPACE"))
    parser.add_argument("--batch-size", type=int, default=5000, help="projector batch size")
    parser.add_argument("--out", help=f"results file instead of {RESULTS.name}")
    parser.add_argument("--processes", type=int, default=1, help="ticket-view RPC processes")
    ARGS = parser.parse_args()
    asyncio.run(main())
