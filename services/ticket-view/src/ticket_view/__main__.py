"""`python -m ticket_view [run]` serves until SIGINT/SIGTERM (on uvloop when it is
installed); `python -m ticket_view rebuild` drops the read model and replays the streams,
printing events/s."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Callable
from typing import Any

from .bootstrap import start
from .entrypoints.rebuild import ProjectorRunning, rebuild
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


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    factory: Any = uvloop.new_event_loop
    return factory


def main(argv: list[str]) -> int:
    settings = Settings()
    command = argv[0] if argv else "run"
    if command == "run":
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(_serve(settings))
        return 0
    if command == "rebuild":
        configure_logging(settings.log_level)
        try:
            report = asyncio.run(rebuild(settings))
        except ProjectorRunning as exc:
            print(str(exc), file=sys.stderr)
            return 2
        print(json.dumps(report))
        return 0
    print("usage: python -m ticket_view [run|rebuild]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
