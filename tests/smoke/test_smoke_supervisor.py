"""The supervisor's process handling, with stand-in children instead of the services."""

import asyncio
import os
import signal
import subprocess
import sys
import time

import psutil
from devstack.readiness import failing_services
from devstack.supervisor import LogTail, reap_stale, spawn, stop_children, summarize, write_pid

POLITE = (
    "import signal, sys, time; signal.signal(signal.SIGTERM, lambda *a: sys.exit(0)); "
    "print('ready', flush=True); time.sleep(60)"
)
STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"
)
PARENT_OF_GRANDCHILD = (
    "import subprocess, sys, time; "
    "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
    "print(p.pid, flush=True); time.sleep(60)"
)


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_for(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met"
        time.sleep(0.05)


async def test_children_run_in_their_own_process_group_and_stop_on_sigterm(tmp_path):
    log = tmp_path / "polite.log"
    child = spawn("polite", [sys.executable, "-c", POLITE], os.environ, log)
    _wait_for(lambda: "ready" in log.read_text())
    assert os.getpgid(child.pid) == child.pid != os.getpgid(0)
    codes = await stop_children([child], grace=10, force=asyncio.Event())
    assert codes == {"polite": 0}


async def test_a_child_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path):
    log = tmp_path / "stubborn.log"
    child = spawn("stubborn", [sys.executable, "-c", STUBBORN], os.environ, log)
    _wait_for(lambda: "ready" in log.read_text())
    started = time.monotonic()
    codes = await stop_children([child], grace=0.5, force=asyncio.Event())
    assert codes == {"stubborn": -signal.SIGKILL}
    assert time.monotonic() - started < 5


async def test_grandchildren_do_not_outlive_their_group(tmp_path):
    log = tmp_path / "parent.log"
    child = spawn("parent", [sys.executable, "-c", PARENT_OF_GRANDCHILD], os.environ, log)
    _wait_for(lambda: log.read_text().strip().splitlines()[-1].isdigit())
    grandchild = int(log.read_text().strip().splitlines()[-1])
    await stop_children([child], grace=5, force=asyncio.Event())
    _wait_for(lambda: _gone(grandchild))


def test_children_get_sigterm_when_the_supervisor_is_killed(tmp_path):
    log = tmp_path / "orphan.log"
    supervisor_code = (
        "import os, sys, time\n"
        "from pathlib import Path\n"
        "from devstack.supervisor import spawn\n"
        f"c = spawn('orphan', [sys.executable, '-c', {POLITE!r}], os.environ, Path({str(log)!r}))\n"
        "print(c.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    supervisor = subprocess.Popen([sys.executable, "-c", supervisor_code], stdout=subprocess.PIPE)
    assert supervisor.stdout is not None
    child_pid = int(supervisor.stdout.readline())
    _wait_for(lambda: log.exists() and "ready" in log.read_text())
    supervisor.kill()
    supervisor.wait()
    _wait_for(lambda: _gone(child_pid))


def test_leftovers_of_a_killed_run_are_stopped_on_the_next_start(tmp_path):
    leftover = subprocess.Popen(
        [sys.executable, "-c", POLITE, "-m", "fakesvc"], stdout=subprocess.PIPE
    )
    assert leftover.stdout is not None and leftover.stdout.readline() == b"ready\n"
    write_pid(tmp_path, "fakesvc", leftover.pid)
    write_pid(tmp_path, "recycled", os.getpid())
    stopped = reap_stale(tmp_path, {"fakesvc": "-m fakesvc", "recycled": "-m nothing-like-me"})
    assert stopped == ["fakesvc"]
    assert leftover.wait(5) == 0
    assert not list(tmp_path.glob("*.pid"))


def test_console_lines_are_short_and_tagged(tmp_path, capsys):
    log = tmp_path / "svc.log"
    log.write_text("")
    child = spawn("svc", [sys.executable, "-c", "print('x')"], os.environ, log)
    child.process.wait()
    with open(log, "a") as f:
        f.write('{"event": "consumer_started", "level": "info", "timestamp": "t", "stream": "S"}\n')
        f.write('{"event": "noise", "level": "debug"}\n')
    LogTail([child]).poll()
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["svc          | x", "svc          | info    consumer_started stream=S"]
    assert summarize("y" * 500, width=40) == "y" * 39 + "…"


def test_readyz_answers_name_the_failing_services():
    names = ["portal-config", "ticket-view", "notifier"]
    body = '503 {"checks": {"nats": "ok", "portal-config": "ok", "notifier": "timeout"}}'
    assert failing_services(body, names) == ["notifier"]
    listed = (
        '{"services": [{"name": "ticket-view", "ok": false}, {"name": "notifier", "ok": true}]}'
    )
    assert failing_services(listed, names) == ["ticket-view"]
    assert failing_services("ConnectError: refused", names) == []
