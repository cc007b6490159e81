"""`python -m devstack run`: the whole portal on one machine, supervised.

Start order: NATS → PostgreSQL (+ the services' databases) → SMTP sink → the four services
→ wait for the gateway's `/readyz` → demo account, portal and CRM data → print the URLs.
Stop order (SIGINT/SIGTERM): services, then SMTP sink, NATS, PostgreSQL. A second signal
kills what is left. A service that exits on its own stops the whole stack with exit code 1:
the supervisor never restarts anything, so a crash is visible, not hidden.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import signal
import sys
import time

import httpx
from portal_contracts import Namespace

from . import demo
from .backing import Backing, service_env
from .config import SERVICES, ServiceSpec, StackConfig
from .infra import free_port, port_is_free
from .readiness import failing_services
from .supervisor import (
    Child,
    LogTail,
    live_process,
    read_pid,
    reap_stale,
    remove_pids,
    spawn,
    stop_children,
    tail_lines,
    write_pid,
)


class StartupError(RuntimeError):
    pass


class _Aborted(Exception):
    pass


def say(text: str = "") -> None:
    print(text, flush=True)


class Stack:
    def __init__(self, config: StackConfig):
        self.config = config
        self.backing = Backing(config)
        self.children: list[Child] = []
        self.tail = LogTail()
        self.stop_requested = asyncio.Event()
        self.force = asyncio.Event()
        self.signals = 0
        self.metrics_ports: dict[str, int] = {}

    # signals ----------------------------------------------------------------------------
    def _on_signal(self, sig: int) -> None:
        self.signals += 1
        if self.signals == 1:
            say(f"\ndevstack: {signal.Signals(sig).name}, stopping (again to force)…")
            self.stop_requested.set()
            return
        say("devstack: forcing stop")
        self.force.set()
        self.stop_requested.set()
        for child in self.children:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGKILL)

    def _checkpoint(self) -> None:
        if self.stop_requested.is_set():
            raise _Aborted

    # run --------------------------------------------------------------------------------
    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal, sig)
        run_dir = self.config.run_dir
        if other := live_process(read_pid(run_dir / "devstack.pid"), "devstack run"):
            print(
                f"devstack: already running (pid {other.pid}) on {self.config.var_dir}; "
                "stop it first (make stop)",
                file=sys.stderr,
            )
            return 1
        write_pid(run_dir, "devstack", os.getpid())
        tail_task = None if self.config.quiet else asyncio.create_task(self.tail.run())
        code = 0
        try:
            await self._start()
            code = await self._watch()
        except _Aborted:
            say("devstack: stopped during start-up")
        except StartupError as exc:
            print(f"devstack: {exc}", file=sys.stderr, flush=True)
            code = 1
        finally:
            code = await self._shutdown(code)
            if tail_task is not None:
                tail_task.cancel()
            remove_pids(run_dir, ["devstack"])
        return code

    async def _start(self) -> None:
        cfg = self.config
        for directory in (cfg.var_dir, cfg.log_dir, cfg.run_dir):
            directory.mkdir(parents=True, exist_ok=True)
        stale = reap_stale(cfg.run_dir, {s.name: f"-m {s.package}" for s in SERVICES})
        if stale:
            say(f"devstack: stopped leftovers of an earlier run: {', '.join(stale)}")
        try:
            self.backing.start_nats()
            self._checkpoint()
            await self.backing.start_postgres()
            self._checkpoint()
            self.backing.start_mail()
        except (OSError, RuntimeError, TimeoutError) as exc:
            raise StartupError(f"could not start the backing services: {exc}") from exc
        self._checkpoint()
        if cfg.infra_only:
            self._print_banner(None, [])
            return
        self._spawn_services()
        await self._wait_ready()
        self._checkpoint()
        key, notes, portal_url = await self._bootstrap()
        self._print_banner(key, notes, portal_url)

    def _spawn_services(self) -> None:
        missing = [s.package for s in SERVICES if not importlib.util.find_spec(s.package)]
        missing += [
            s.package
            for s in SERVICES
            if s.package not in missing and not importlib.util.find_spec(f"{s.package}.__main__")
        ]
        if missing:
            raise StartupError(f"`python -m` cannot run these services yet: {', '.join(missing)}")
        if not port_is_free(self.config.gateway_port):
            raise StartupError(
                f"port {self.config.gateway_port} is in use: stop what listens there "
                "or choose another GATEWAY_PORT"
            )
        for spec in SERVICES:
            child = spawn(
                spec.name,
                [sys.executable, "-m", spec.package],
                self._service_env(spec),
                self.config.log_dir / spec.log_name,
            )
            write_pid(self.config.run_dir, spec.name, child.pid)
            self.children.append(child)
            self.tail.children.append(child)

    def _service_env(self, spec: ServiceSpec) -> dict[str, str]:
        port = self.config.metrics_ports.get(spec.name) or free_port()
        self.metrics_ports[spec.name] = port
        return service_env(self.config, self.backing, spec, port)

    def _dead_child(self) -> Child | None:
        return next((c for c in self.children if c.exited() is not None), None)

    def _death_message(self, child: Child) -> str:
        log = tail_lines(child.log_path)
        return f"{child.name} exited with code {child.exited()}; its log ends with:\n{log}"

    async def _wait_ready(self) -> None:
        url = f"{self.config.gateway_url}/readyz"
        deadline = time.monotonic() + self.config.ready_timeout
        last = "no answer yet"
        async with httpx.AsyncClient(timeout=3) as client:
            while True:
                self._checkpoint()
                if dead := self._dead_child():
                    raise StartupError(self._death_message(dead))
                try:
                    response = await client.get(url)
                    if response.status_code == 200:
                        return
                    last = f"{response.status_code} {response.text[:500]}"
                except httpx.HTTPError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                if time.monotonic() > deadline:
                    raise StartupError(self._not_ready_message(last))
                await asyncio.sleep(0.5)

    def _not_ready_message(self, last: str) -> str:
        names = [s.name for s in SERVICES]
        answered = last[:3].isdigit()
        suspects = failing_services(last, names) or names if answered else ["gateway"]
        timeout = self.config.ready_timeout
        parts = [
            f"{self.config.gateway_url}/readyz not 200 after {timeout:g}s "
            "(DEVSTACK_READY_TIMEOUT raises the limit)",
            f"last answer: {last}",
        ]
        for child in self.children:
            if child.name in suspects:
                parts.append(f"--- {child.log_path} (last lines) ---\n{tail_lines(child.log_path)}")
        return "\n".join(parts)

    async def _bootstrap(self) -> tuple[str, list[str], str | None]:
        cfg = self.config
        namespace = Namespace(cfg.namespace)
        key = demo.demo_key(cfg.demo_key_file)
        try:
            await demo.ensure_account(self.backing.nats_url, namespace, demo.DEMO_ACCOUNT, key)
            if cfg.bootstrap_admin_key:
                await demo.ensure_account(
                    self.backing.nats_url, namespace, demo.DEFAULT_ACCOUNT, cfg.bootstrap_admin_key
                )
        except demo.DemoError as exc:
            raise StartupError(str(exc)) from exc
        notes = []
        if cfg.bootstrap_admin_key:
            notes.append("account 'default': ready with PORTAL_BOOTSTRAP_ADMIN_KEY")
        if not cfg.with_demo:
            return key, notes, None
        report = await demo.create_demo_portal(cfg.gateway_url, key, cfg.gateway_port)
        return key, notes + report.notes, report.portal_url

    def _print_banner(self, key: str | None, notes: list[str], portal_url: str | None = None):
        cfg = self.config
        rows: list[tuple[str, str]] = []
        if key is not None:
            gw = cfg.gateway_url
            rows += [("gateway", gw), ("API docs", f"{gw}/docs"), ("readiness", f"{gw}/readyz")]
            if portal_url:
                rows.append(("demo portal", portal_url))
        rows += self.backing.describe()
        if key is not None:
            rows.append(("logs", f"{cfg.log_dir}/<service>.log"))
            metrics = ", ".join(f"{n} :{p}" for n, p in self.metrics_ports.items())
            rows.append(("metrics", metrics))
        say("")
        say("Customer portal dev stack is running" + (" (infra only)" if key is None else ""))
        for label, value in rows:
            say(f"  {label:<12} {value}")
        for note in notes:
            say(f"  · {note}")
        if key is None:
            urls = f"NATS_URL='{self.backing.nats_url}' DATABASE_URL='{self.backing.admin_url}'"
            say(f"  for tests   {urls}")
        if key is not None:
            say(f"  demo admin key  {key}   (kept in {cfg.demo_key_file})")
        say("Press Ctrl-C to stop.")
        say("")

    async def _watch(self) -> int:
        while True:
            if dead := self._dead_child():
                print(f"devstack: {self._death_message(dead)}", file=sys.stderr, flush=True)
                print("devstack: stopping the stack", file=sys.stderr, flush=True)
                return 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_requested.wait(), 0.5)
            if self.stop_requested.is_set():
                return 0

    async def _shutdown(self, code: int) -> int:
        """A service that ends with 0, or dies of the SIGTERM it was sent, stopped cleanly."""
        if not self.config.quiet:
            self.tail.poll()
        children = list(reversed(self.children))
        exits = await stop_children(children, self.config.stop_grace, self.force)
        if not self.config.quiet:
            self.tail.poll()
        for name, status in exits.items():
            if status not in (0, -signal.SIGTERM):
                say(f"devstack: {name} stopped with exit code {status}")
                code = code or 1
        remove_pids(self.config.run_dir, [c.name for c in self.children])
        await self.backing.stop(self.force.is_set())
        if self.force.is_set():
            code = code or 130
        say(f"devstack: stopped (exit {code})")
        return code
