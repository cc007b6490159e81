"""`python -m portal_config` runs the service until SIGINT/SIGTERM (on uvloop when it is
installed); `python -m portal_config ensure-account --name NAME [--api-key KEY]` is the
operator CLI."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable
from typing import Any

from .entrypoints.cli import ensure_account, parser
from .observability import configure_logging
from .settings import Settings


async def serve(settings: Settings) -> None:
    from .bootstrap import start

    running = await start(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await running.stop()


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    factory: Any = uvloop.new_event_loop
    return factory


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level)
    if args.command == "ensure-account":
        return asyncio.run(ensure_account(settings, args.name, args.api_key))
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
