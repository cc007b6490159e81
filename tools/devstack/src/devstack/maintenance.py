"""Maintenance on the dev stack's data: `python -m devstack rebuild-ticket-view`.

The rebuild is ticket-view's own (`python -m ticket_view rebuild`: drop the read model, replay
the CRM and CONFIG streams). It refuses while a projector runs, so it needs the stack stopped;
devstack starts only NATS and PostgreSQL (embedded, or the given URLs) on the same `var/`,
runs the rebuild with ticket-view's usual environment, and stops them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys

from .backing import Backing, service_env
from .config import SERVICES, StackConfig
from .supervisor import live_process, read_pid


async def rebuild_ticket_view(config: StackConfig) -> int:
    running = live_process(read_pid(config.run_dir / "devstack.pid"), "devstack run")
    if running is not None:
        print(
            f"devstack: the stack is running (pid {running.pid}); stop it first (make stop), "
            "the rebuild needs ticket-view's projector stopped",
            file=sys.stderr,
        )
        return 2
    spec = next(s for s in SERVICES if s.name == "ticket-view")
    backing = Backing(config)
    child: asyncio.subprocess.Process | None = None
    loop = asyncio.get_running_loop()

    def forward(sig: int) -> None:
        if child is not None and child.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, forward, sig)
    try:
        config.run_dir.mkdir(parents=True, exist_ok=True)
        backing.start_nats()
        await backing.start_postgres()
        env = service_env(config, backing, spec, metrics_port=None)
        env.pop(f"{spec.env_prefix}METRICS_PORT", None)
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", spec.package, "rebuild", env=env, start_new_session=True
        )
        return await child.wait()
    finally:
        await backing.stop(force=False)
