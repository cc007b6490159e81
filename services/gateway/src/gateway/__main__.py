"""`python -m gateway`: serve HTTP until SIGINT/SIGTERM, then stop cleanly (on uvloop)."""

from __future__ import annotations

import uvloop

from .bootstrap import serve_forever
from .settings import Settings


def main() -> None:
    uvloop.run(serve_forever(Settings()))


if __name__ == "__main__":
    main()
