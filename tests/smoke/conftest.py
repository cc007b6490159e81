"""Running `python -m devstack run` as a subprocess, the way `make run` does."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from devstack.infra import drop_database, free_port
from devstack.supervisor import still_running

DATABASES = ("portal_config", "ticket_view", "notifier")


class DevstackRun:
    """One `python -m devstack run` process with its own var dir and gateway port."""

    def __init__(self, var_dir: Path, env: dict[str, str], args: list[str]):
        self.var_dir = var_dir
        self.env = env
        self.args = args
        self.output = var_dir.parent / f"devstack-{uuid.uuid4().hex[:6]}.out"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.env['GATEWAY_PORT']}"

    def start(self) -> DevstackRun:
        with open(self.output, "wb") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "devstack",
                    "run",
                    "--var-dir",
                    str(self.var_dir),
                    *self.args,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
        return self

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def wait_for_output(self, pattern: str, timeout: float) -> re.Match[str]:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if match := re.search(pattern, self.text()):
                return match
            if self.process.poll() is not None:
                pytest.fail(f"devstack exited with {self.process.returncode}:\n{self.text()}")
            time.sleep(0.2)
        pytest.fail(f"no {pattern!r} in devstack output after {timeout}s:\n{self.text()}")

    def pids(self) -> dict[str, int]:
        return {p.stem: int(p.read_text().split()[0]) for p in (self.var_dir / "run").glob("*.pid")}

    def stop(self, sig: int = signal.SIGINT, timeout: float = 90) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"devstack did not stop within {timeout}s:\n{self.text()}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def devstack_run() -> Iterator[Callable[..., DevstackRun]]:
    """`devstack_run("--infra-only")` → a started run on a fresh var dir. With external
    `DATABASE_URL` / `NATS_URL`, databases get a unique prefix and the namespace is unique;
    both are removed afterwards. Everything left running is killed at the end.

    The var dir is not under pytest's `tmp_path`: a concurrent pytest run resets
    `/tmp/pytest-of-<user>` to mode 0700, which locks out the embedded PostgreSQL's own
    system user (when running as root) while it starts."""
    tmp_path = Path(tempfile.mkdtemp(prefix="devstack-smoke-"))
    prefix = f"t_smoke_{uuid.uuid4().hex[:8]}_"
    namespace = f"smoke{uuid.uuid4().hex[:10]}"
    runs: list[DevstackRun] = []
    env = {
        **os.environ,
        "GATEWAY_PORT": str(free_port()),
        "PORTAL_NAMESPACE": namespace,
        "PORTAL_DATABASE_PREFIX": prefix,
        "DEVSTACK_QUIET": "1",
    }
    env.pop("PORTAL_VAR_DIR", None)
    env.pop("MAIL_SINK_DIR", None)

    def start(*args: str, **extra_env: str) -> DevstackRun:
        run = DevstackRun(tmp_path / "var", {**env, **extra_env}, list(args)).start()
        runs.append(run)
        return run

    yield start
    for run in runs:
        leftovers = run.pids()
        run.kill()
        for pid in still_running(leftovers, timeout=0).values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    shutil.rmtree(tmp_path, ignore_errors=True)
    if admin_url := os.environ.get("DATABASE_URL"):
        for name in DATABASES:
            drop_database(admin_url, prefix + name)
    if nats_url := os.environ.get("NATS_URL"):
        import asyncio

        from devstack.testing import delete_streams
        from portal_contracts import Namespace

        asyncio.run(delete_streams(nats_url, Namespace(namespace)))
