"""Open-loop HTTP load: a fixed request rate over a fixed number of keep-alive connections.

    python openloop.py URL RATE CONNECTIONS SECONDS HEADERS_JSON  → one JSON line

Request i is due at `start + i / RATE` and goes on connection `i % CONNECTIONS`; a connection
sends its next request as soon as it is due and the previous answer is in. Latency is measured
from the moment a request was DUE, not from when it could be sent, so a slow server cannot
hide its queueing by slowing the clients down (wrk's closed loop, "coordinated omission").
Raw asyncio protocol on uvloop: the load generator itself costs a few tens of µs per request.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import deque
from typing import Any, cast
from urllib.parse import urlsplit


class Connection(asyncio.Protocol):
    """One HTTP/1.1 keep-alive connection; answers framed by Content-Length."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[int] | None = None
        self.lost = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0 or self._waiter is None:
            return
        status_line, *fields = bytes(self._buffer[:end]).split(b"\r\n")
        length = 0
        for field in fields:
            name, _, value = field.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
            elif name.lower() == b"transfer-encoding":
                raise ValueError("chunked answers are not supported: expected Content-Length")
        if len(self._buffer) < end + 4 + length:
            return
        status = int(status_line[9:12])
        del self._buffer[: end + 4 + length]
        waiter, self._waiter = self._waiter, None
        if not waiter.done():
            waiter.set_result(status)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ConnectionError("connection closed"))
        if not self.lost.done():
            self.lost.set_result(None)

    async def send(self, request: bytes) -> int:
        assert self.transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self._waiter


async def run(url: str, rate: float, connections: int, seconds: float, headers: dict) -> dict:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"Host": parts.netloc, "Connection": "keep-alive"} | {
        name.title(): value for name, value in headers.items()
    }
    lines = [f"GET {target} HTTP/1.1", *(f"{name}: {value}" for name, value in headers.items())]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    loop = asyncio.get_running_loop()
    pool = [
        (await loop.create_connection(Connection, parts.hostname, parts.port or 80))[1]
        for _ in range(connections)
    ]
    total = int(rate * seconds)
    queues: list[deque[float]] = [deque() for _ in range(connections)]
    ready = [asyncio.Event() for _ in range(connections)]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    done = asyncio.Event()
    finished = 0

    async def worker(index: int) -> None:
        nonlocal errors, finished
        connection, queue, event = pool[index], queues[index], ready[index]
        while True:
            while not queue:
                event.clear()
                await event.wait()
            due = queue.popleft()
            if due < 0:
                return
            try:
                status = await connection.send(request)
                statuses[status] = statuses.get(status, 0) + 1
                latencies.append(time.perf_counter() - due)
            except ConnectionError:
                errors += 1
            finished += 1
            if finished == total:
                done.set()

    workers = [asyncio.create_task(worker(i)) for i in range(connections)]
    started = time.perf_counter()
    for i in range(total):
        due = started + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queues[i % connections].append(due)
        ready[i % connections].set()
    await done.wait()
    elapsed = time.perf_counter() - started
    for index in range(connections):
        queues[index].append(-1.0)
        ready[index].set()
    await asyncio.gather(*workers)
    for connection in pool:
        assert connection.transport is not None
        connection.transport.close()
    ordered = sorted(latencies)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {
        "tool": "openloop",
        "connections": connections,
        "target_rps": rate,
        "seconds": round(elapsed, 1),
        "requests": len(ordered),
        "requests_per_s": round(len(ordered) / elapsed, 1),
        "p50_ms": at(0.5),
        "p90_ms": at(0.9),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1] * 1000, 2) if ordered else None,
        "non_2xx": sum(n for status, n in statuses.items() if not 200 <= status < 300),
        "errors": errors,
    }


def main(argv: list[str]) -> None:
    url, rate, connections, seconds, headers = argv
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    summary = runner(run(url, float(rate), int(connections), float(seconds), json.loads(headers)))
    print(json.dumps(summary))


if __name__ == "__main__":
    main(sys.argv[1:])
