"""Child processes of the dev stack: each in its own process group, its output in its own
log file, its pid in `var/run/<name>.pid`, stopped with SIGTERM then SIGKILL.

A child never shares the supervisor's process group, so a terminal's Ctrl-C reaches only the
supervisor, which then stops the children in order. Every child is started through
`devstack.guard`, so it also gets SIGTERM if the supervisor itself dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psutil


def guarded(argv: list[str]) -> list[str]:
    return [sys.executable, "-m", "devstack.guard", "--", *argv]


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_offset: int = 0

    @property
    def pid(self) -> int:
        return self.process.pid

    def exited(self) -> int | None:
        return self.process.poll()


def spawn(
    name: str, argv: list[str], env: Mapping[str, str], log_path: Path, cwd: Path | None = None
) -> Child:
    """Starts `argv` in a new session (its own process group), output appended to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    with open(log_path, "ab") as log:
        log.write(f"-- devstack: starting {name} at {stamp} --\n".encode())
        offset = log.tell()
        process = subprocess.Popen(
            guarded(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
    return Child(name, process, log_path, offset)


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


async def stop_children(
    children: Iterable[Child], grace: float, force: asyncio.Event
) -> dict[str, int]:
    """SIGTERM to every child's group, then SIGKILL after `grace` seconds or once `force` is
    set. Leftover members of a group are killed after its leader exits. → exit codes."""
    pending = [c for c in children if c.exited() is None]
    for child in pending:
        _signal_group(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(c.exited() is None for c in pending):
        if force.is_set() or time.monotonic() > deadline:
            for child in pending:
                if child.exited() is None:
                    print(f"devstack: {child.name} did not stop in time, killing it", flush=True)
                    _signal_group(child.pid, signal.SIGKILL)
            for child in pending:
                await asyncio.to_thread(child.process.wait)
            break
        await asyncio.sleep(0.05)
    for child in pending:
        _signal_group(child.pid, signal.SIGKILL)
    return {c.name: c.process.returncode for c in children if c.process.returncode is not None}


# pid files ---------------------------------------------------------------------------------


def write_pid(run_dir: Path, name: str, pid: int) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / f"{name}.pid"
    path.write_text(f"{pid}\n")
    return path


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def remove_pids(run_dir: Path, names: Iterable[str]) -> None:
    for name in names:
        with contextlib.suppress(FileNotFoundError):
            (run_dir / f"{name}.pid").unlink()


def live_process(pid: int | None, marker: str) -> psutil.Process | None:
    """The running process `pid` if its command line contains `marker` (guards against a
    recycled pid), else None."""
    if not pid:
        return None
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc if marker in " ".join(proc.cmdline()) else None
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def reap_stale(run_dir: Path, markers: Mapping[str, str], grace: float = 10.0) -> list[str]:
    """Stops processes left behind by a supervisor that could not clean up (pid file present,
    process alive, command line still matching). → the names it stopped."""
    stale: list[tuple[str, psutil.Process]] = []
    for name, marker in markers.items():
        proc = live_process(read_pid(run_dir / f"{name}.pid"), marker)
        if proc is not None:
            stale.append((name, proc))
    for _, proc in stale:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.terminate()
    _, alive = psutil.wait_procs([p for _, p in stale], timeout=grace)
    for proc in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    remove_pids(run_dir, markers)
    return [name for name, _ in stale]


def still_running(pids: Mapping[str, int], timeout: float = 10.0) -> dict[str, int]:
    """The pids among `pids` that are still alive (not gone, not zombies) after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        alive = {}
        for name, pid in pids.items():
            with contextlib.suppress(psutil.NoSuchProcess):
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive[name] = pid
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


# console tail ------------------------------------------------------------------------------

_SKIP_KEYS = {"timestamp", "time", "ts", "logger", "level", "event", "log_level"}


def summarize(line: str, width: int = 160) -> str | None:
    """One short colourless console line for a log line; None for debug noise."""
    text = line.strip()
    if not text:
        return None
    if text.startswith("{"):
        try:
            record = json.loads(text)
        except ValueError:
            record = None
        if isinstance(record, dict):
            level = str(record.get("level") or record.get("log_level") or "info").lower()
            if level == "debug":
                return None
            extras = " ".join(
                f"{k}={v}" for k, v in record.items() if k not in _SKIP_KEYS and v is not None
            )
            text = f"{level:<7} {record.get('event', '')} {extras}".rstrip()
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass
class LogTail:
    """Follows the children's log files and prints new lines prefixed with the child name."""

    children: list[Child] = field(default_factory=list)
    width: int = 160

    def poll(self) -> None:
        for child in self.children:
            try:
                with open(child.log_path, "rb") as log:
                    log.seek(child.log_offset)
                    chunk = log.read()
            except OSError:
                continue
            end = chunk.rfind(b"\n") + 1
            if not end:
                continue
            child.log_offset += end
            for raw in chunk[:end].decode(errors="replace").splitlines():
                if (summary := summarize(raw, self.width)) is not None:
                    print(f"{child.name:<13}| {summary}", flush=True)

    async def run(self, interval: float = 0.25) -> None:
        while True:
            self.poll()
            await asyncio.sleep(interval)


def tail_lines(path: Path, count: int = 30) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {path})"
    return "\n".join(lines[-count:])
