"""`python -m devstack <command>`: run the embedded stack, benchmarks, maintenance."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    commands = ("run",)
    if not argv or argv[0] not in commands:
        print(f"usage: python -m devstack {{{','.join(commands)}}}", file=sys.stderr)
        return 2
    raise SystemExit(f"'{argv[0]}' is not available yet")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
