"""`python -m gateway`: serve HTTP until SIGINT/SIGTERM, then stop cleanly (on uvloop when
it is installed)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from .bootstrap import serve_forever
from .settings import Settings


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    factory: Any = uvloop.new_event_loop
    return factory


def main() -> None:
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(serve_forever(Settings()))


if __name__ == "__main__":
    main()
