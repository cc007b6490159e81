"""A rebuild's CRM replay in parts: contiguous ranges of the stream, each replayed by its own
process, so that the Python work per event (receive, parse, collapse, encode: the replay's
bottleneck) runs on every core while PostgreSQL absorbs the COPYs.

Each part is the service's projector, staged, under its own name: its own durable consumer,
advisory lock and position in `stage_positions` (seeded with the sequence before its range),
so a part that fails midway resumes where it was, like any projector. Its staged rows carry
their batch's first stream sequence, which orders them across parts exactly as one replay
would. The first part runs in the rebuilding process, the others in spawned ones (a fresh
interpreter: no inherited event loop, connections or locks).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import nats
import uvloop
from portal_contracts import Namespace

from ..adapters.jetstream import NatsDeadLetters
from ..application.projection import CRM, plan_crm
from ..observability import Metrics, configure_logging
from ..settings import Settings
from .projector import ProjectionSpec, Projector


class RebuildFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class Part:
    """Stream sequences `after + 1` through `until`."""

    number: int
    after: int
    until: int

    @property
    def name(self) -> str:
        return f"{CRM}-part{self.number}"


def split(first: int, last: int, count: int) -> list[Part]:
    """`count` contiguous ranges of (nearly) equal length over `first..last`; fewer for a
    shorter stream, none for an empty one."""
    size = last - first + 1
    count = min(count, size)
    if count < 1:
        return []
    bounds = [first - 1 + size * i // count for i in range(count + 1)]
    return [Part(i + 1, bounds[i], bounds[i + 1]) for i in range(count)]


async def replay_part(settings: Settings, part: Part, timeout: float) -> int:
    """→ the events applied. The part's consumer is deleted afterwards: it is of no further
    use, and the service derives its own from the published position."""
    ns = Namespace(settings.namespace)
    nc = await nats.connect(settings.nats_url, name=f"ticket-view-rebuild-{part.number}")
    js = nc.jetstream()
    spec = ProjectionSpec(part.name, ns.crm_stream, plan_crm)
    projector = Projector(
        spec,
        nc,
        settings.database_url,
        NatsDeadLetters(js, ns, spec.stream),
        Metrics(),
        batch_size=settings.batch_size,
        staged=True,
        until=part.until,
    )
    task = asyncio.create_task(projector.run(), name=f"replay-{part.name}")
    try:
        await projector.wait_for(part.until, timeout)
    except TimeoutError:
        raise RebuildFailed(
            f"replay part {part.number} reached stream sequence {projector.position}, "
            f"not {part.until}, within {timeout:.0f} s (see projection_failed in its log)"
        ) from None
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        with contextlib.suppress(Exception):
            await js.delete_consumer(spec.stream, spec.durable)
        await nc.close()
    return projector.applied


def _child(settings: Settings, part: Part, timeout: float, sender: Connection) -> None:
    """A spawned part's process: replays, then sends ("done", events) or ("failed", why)."""
    from ..bootstrap import GC_THRESHOLDS

    configure_logging(settings.log_level)
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        outcome: tuple[str, Any] = ("done", uvloop.run(replay_part(settings, part, timeout)))
    except Exception as exc:
        outcome = ("failed", f"{type(exc).__name__}: {exc}")
    sender.send(outcome)
    sender.close()


def _receive(receiver: Connection) -> tuple[str, Any]:
    try:
        outcome: tuple[str, Any] = receiver.recv()
        return outcome
    except EOFError:
        return ("failed", "the process ended without a result")


async def replay_in_child(settings: Settings, part: Part, timeout: float) -> int:
    """`replay_part` in a spawned process; → the events applied. Cancelled (another part
    failed), the process is terminated: nothing may be staged behind the rebuild's back."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_child, args=(settings, part, timeout, sender), name=f"rebuild-{part.name}"
    )
    process.start()
    sender.close()
    try:
        status, value = await asyncio.to_thread(_receive, receiver)
    except BaseException:
        process.terminate()
        raise
    finally:
        await asyncio.to_thread(process.join)
        receiver.close()
    if status != "done":
        raise RebuildFailed(
            f"replay part {part.number} failed: {value} (exit code {process.exitcode})"
        )
    return int(value)
