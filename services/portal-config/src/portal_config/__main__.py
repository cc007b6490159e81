"""`python -m portal_config` runs the service on uvloop until SIGINT/SIGTERM;
`python -m portal_config ensure-account --name NAME [--api-key KEY]` is the operator CLI."""

from __future__ import annotations

import asyncio
import signal
import sys

import uvloop

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


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level)
    if args.command == "ensure-account":
        return asyncio.run(ensure_account(settings, args.name, args.api_key))
    uvloop.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
