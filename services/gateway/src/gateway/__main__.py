"""`python -m gateway`: serve HTTP until SIGINT/SIGTERM, then stop cleanly."""

from __future__ import annotations

import asyncio

from .bootstrap import serve_forever
from .settings import Settings


def main() -> None:
    asyncio.run(serve_forever(Settings()))


if __name__ == "__main__":
    main()
