"""Rebuild: drop the read model, recreate it and replay both streams from the start.

The replay runs the very projectors the service runs (batches, parsing, poison handling,
tracking positions), except that the CRM stream is replayed in parts, one process each
(`replay_parts`), and stages every batch's changes (COPY into unlogged tables without keys)
instead of merging them; once every part is through, last-writer-wins per key is resolved
once for all of them into the tables, then the positions are set. The result is identical to
the incrementally built model; a rebuild that dies midway, or whose part fails, leaves no
positions, and the service simply replays the streams. Stop the service first: the rebuild
refuses to run while a projector holds its lock, and holds the CRM lock itself until done.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from time import perf_counter
from typing import Any

import structlog

from ..adapters import db
from ..adapters.crm_writer import RESOLVE_PHASES, resolve_staged
from ..adapters.projection_store import STAGED_POSITIONS, write_position
from ..adapters.schema import (
    TABLES,
    create_indexes,
    create_schema,
    create_staging,
    drop_schema,
    drop_staging,
)
from ..application.projection import CONFIG, CRM
from ..observability import Metrics
from ..settings import Settings
from .replay_parts import Part, RebuildFailed, replay_in_child, replay_part, split

log = structlog.get_logger("ticket_view.rebuild")


class ProjectorRunning(RuntimeError):
    pass


async def _lock_projections(conn: Any, names: list[str]) -> None:
    """Refuses to run beside a projector. The CRM lock stays with `conn` for the whole
    rebuild (a service started meanwhile waits for it); the config projector of the rebuild
    takes its own."""
    for name in names:
        key = f"ticket-view:{name}"
        cur = await conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,))
        row = await cur.fetchone()
        if not row or not row[0]:
            raise ProjectorRunning(f"projection {name!r} is running: stop ticket-view first")
        if name != CRM:
            await conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))


async def _replay(
    settings: Settings, parts: list[Part], timeout: float, alongside: Coroutine[Any, Any, None]
) -> int:
    """Every CRM part to its end (the first in this process) beside `alongside` (the config
    stream's replay) → the CRM events applied. The first failure cancels the rest and fails
    the rebuild."""
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(alongside)
            tasks = [
                group.create_task(
                    (replay_part if i == 0 else replay_in_child)(settings, p, timeout)
                )
                for i, p in enumerate(parts)
            ]
    except ExceptionGroup as failed:
        why = "; ".join(f"{type(e).__name__}: {e}" for e in failed.exceptions)
        raise RebuildFailed(f"replay failed: {why}") from failed
    return sum(t.result() for t in tasks)


async def _stop_projectors(running: Any) -> None:
    """Before resolving: nothing may be staged after it (the positions move with the rows)."""
    for task in running.tasks:
        task.cancel()
    for task in running.tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    running.tasks.clear()


async def _vacuum(url: str) -> float:
    """Fresh statistics and visibility maps, so the rebuilt model serves good plans and
    index-only scans at once instead of after autovacuum catches up."""
    started = perf_counter()
    conn = await db.connect(url, autocommit=True)
    try:
        for table in TABLES:
            await conn.execute(f"VACUUM (ANALYZE) {table}")
    finally:
        await conn.close()
    return perf_counter() - started


async def _resolve(url: str, conn: Any, crm_position: int) -> float:
    """Staging into the tables on two connections (two cores), then the positions.

    Not one transaction: should the rebuild die before the positions are set, the service
    replays the whole stream over what was resolved, and last-writer-wins makes that
    converge to the same rows."""
    started = perf_counter()
    other = await db.connect(url, autocommit=True)
    try:
        for phase in RESOLVE_PHASES:
            await asyncio.gather(
                *(resolve_staged(c, tables) for c, tables in zip((conn, other), phase, strict=True))
            )
    finally:
        await other.close()
    async with conn.transaction():
        await write_position(conn, CRM, crm_position)
    await drop_staging(conn)
    return perf_counter() - started


async def rebuild(settings: Settings, timeout: float = 3600.0) -> dict[str, Any]:
    """→ {events, seconds, events_per_second, resolve_seconds, index_seconds,
    vacuum_analyze_seconds, positions, parts}.

    The secondary indexes are built once after the replay (included in `seconds`) instead of
    being maintained row by row; the primary keys stay, the merges need them."""
    from ..bootstrap import Running, prepare, projection_specs, start_projectors

    ns, nc = await prepare(settings)
    running = Running(nc=nc, pool=None, metrics=Metrics())
    try:
        js = nc.jetstream()
        crm = (await js.stream_info(ns.crm_stream)).state
        targets = {
            CRM: crm.last_seq,
            CONFIG: (await js.stream_info(ns.config_stream)).state.last_seq,
        }
        parts = split(crm.first_seq, crm.last_seq, settings.rebuild_parts)
        conn = await db.connect(settings.database_url, autocommit=True)
        try:
            await _lock_projections(conn, [s.name for s in projection_specs(ns)])
            await drop_schema(conn)
            await create_schema(conn, indexes=False)
            await create_staging(conn)
            for part in parts:
                await write_position(conn, part.name, part.after, STAGED_POSITIONS)
            started = perf_counter()
            start_projectors(running, ns, settings, only=(CONFIG,))
            replayed = await _replay(
                settings,
                parts,
                timeout,
                running.projectors[CONFIG].wait_for(targets[CONFIG], timeout),
            )
            await _stop_projectors(running)
            resolve_seconds = await _resolve(settings.database_url, conn, targets[CRM])
            resolved = perf_counter()
            await create_indexes(conn)
            index_seconds = perf_counter() - resolved
            seconds = perf_counter() - started
        finally:
            await conn.close()
        vacuum_seconds = await _vacuum(settings.database_url)
    finally:
        await running.stop()
    events = replayed + running.projectors[CONFIG].applied
    report = {
        "events": events,
        "seconds": round(seconds, 3),
        "events_per_second": round(events / seconds, 1) if seconds > 0 else None,
        "resolve_seconds": round(resolve_seconds, 3),
        "index_seconds": round(index_seconds, 3),
        "vacuum_analyze_seconds": round(vacuum_seconds, 3),
        "positions": targets,
        "parts": len(parts),
    }
    log.info("read_model_rebuilt", **report)
    return report
