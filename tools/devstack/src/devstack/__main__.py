"""`python -m devstack <command>`: run the embedded stack, stop it, maintenance.

- `run [--var-dir DIR] [--infra-only] [--no-demo] [--quiet]` — the whole portal (see stack.py).
- `stop [--var-dir DIR]` — SIGTERM to the `run` supervisor of that var dir.
- `rebuild-ticket-view [--var-dir DIR]` — `python -m ticket_view rebuild` on the stopped stack.
- `bench [--scale S]` — issue 3's benchmark: both services' scripts, then the summary in
  `bench/results/ticket-view.json` (see `devstack.bench`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
import warnings

from .config import StackConfig
from .supervisor import live_process, read_pid


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m devstack")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start NATS, PostgreSQL, SMTP sink and the services")
    run.add_argument("--var-dir", help="state directory (default: $PORTAL_VAR_DIR or ./var)")
    run.add_argument("--infra-only", action="store_true", help="NATS, PostgreSQL, SMTP only")
    run.add_argument("--no-demo", action="store_true", help="no demo portal or CRM data")
    run.add_argument("--quiet", action="store_true", default=None, help="no console log tail")
    stop = commands.add_parser("stop", help="stop the `run` of a var dir")
    stop.add_argument("--var-dir")
    rebuild = commands.add_parser(
        "rebuild-ticket-view", help="drop and replay the ticket-view read model (stack stopped)"
    )
    rebuild.add_argument("--var-dir")
    bench = commands.add_parser("bench", help="the ticket-visibility benchmark (devstack.bench)")
    bench.add_argument(
        "--scale", type=float, default=1.0, help="data set size, 1 = 1M tickets (default)"
    )
    return parser


def _stop(config: StackConfig) -> int:
    proc = live_process(read_pid(config.run_dir / "devstack.pid"), "devstack run")
    if proc is None:
        print(f"devstack: nothing running on {config.var_dir}")
        return 0
    os.kill(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + config.stop_grace + 30
    while proc.is_running() and time.monotonic() < deadline:
        time.sleep(0.2)
    if proc.is_running():
        print(f"devstack: pid {proc.pid} still running", file=sys.stderr)
        return 1
    print(f"devstack: stopped pid {proc.pid}")
    return 0


def main(argv: list[str]) -> int:
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "bench":
        from .bench import run

        return run(args.scale)
    if args.command == "stop":
        return _stop(StackConfig.from_env(var_dir=args.var_dir))
    if args.command == "rebuild-ticket-view":
        from .maintenance import rebuild_ticket_view

        config = StackConfig.from_env(var_dir=args.var_dir, infra_only=True)
        return asyncio.run(rebuild_ticket_view(config))
    from .stack import Stack

    config = StackConfig.from_env(
        var_dir=args.var_dir,
        quiet=args.quiet,
        infra_only=args.infra_only,
        with_demo=not args.no_demo,
    )

    async def _run() -> int:
        return await Stack(config).run()

    return asyncio.run(_run())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
