"""`python -m notifier`: runs until SIGINT/SIGTERM, then stops cleanly (exit 0)."""

from __future__ import annotations

import asyncio
import signal

from notifier.bootstrap import start
from notifier.settings import Settings


async def main() -> int:
    running = await start(Settings())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await running.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
