"""`python -m ticket_view [run]` serves on uvloop until SIGINT/SIGTERM;
`python -m ticket_view rebuild` drops the read model and replays the streams, printing events/s."""

from __future__ import annotations

import asyncio
import json
import signal
import sys

import uvloop

from .bootstrap import start
from .entrypoints.rebuild import ProjectorRunning, rebuild
from .entrypoints.replay_parts import RebuildFailed
from .observability import configure_logging
from .settings import Settings


async def _serve(settings: Settings) -> None:
    running = await start(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await running.stop()


def main(argv: list[str]) -> int:
    settings = Settings()
    command = argv[0] if argv else "run"
    if command == "run":
        uvloop.run(_serve(settings))
        return 0
    if command == "rebuild":
        configure_logging(settings.log_level)
        try:
            report = asyncio.run(rebuild(settings))
        except ProjectorRunning as exc:
            print(str(exc), file=sys.stderr)
            return 2
        except RebuildFailed as exc:
            print(f"rebuild failed, the read model has no positions: {exc}", file=sys.stderr)
            return 1
        print(json.dumps(report))
        return 0
    print("usage: python -m ticket_view [run|rebuild]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
