"""`python -m devstack.guard -- <argv...>`: exec `argv` so that it gets SIGTERM when the
process that started it dies.

Linux's parent-death signal (`PR_SET_PDEATHSIG`) survives `exec`; setting it here instead of
in a `preexec_fn` keeps `fork` free of Python code while the supervisor runs threads. Even
when the supervisor is killed with SIGKILL, its children do not outlive it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def set_parent_death_signal(sig: int = signal.SIGTERM) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except OSError:
        return False


def main(argv: list[str]) -> None:
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        raise SystemExit("usage: python -m devstack.guard -- <program> [args...]")
    parent = os.getppid()
    set_parent_death_signal()
    if os.getppid() != parent:
        raise SystemExit("devstack.guard: the parent died before the guard was set")
    os.execvp(argv[0], argv)  # noqa: S606


if __name__ == "__main__":
    main(sys.argv[1:])
