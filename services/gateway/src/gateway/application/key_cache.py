"""Short-lived memory of resolved API keys, so that a burst of admin calls costs one lookup.

Only successful resolutions are kept, and only for `ttl` seconds: a revoked key stops working
within that time. Keys are remembered by their SHA-256, never in clear.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Account:
    id: str
    name: str


class KeyCache:
    def __init__(self, ttl: float, clock: Callable[[], float], max_entries: int = 10_000) -> None:
        self._ttl = ttl
        self._clock = clock
        self._max = max_entries
        self._entries: OrderedDict[str, tuple[float, Account]] = OrderedDict()

    @staticmethod
    def _digest(api_key: str) -> str:
        return hashlib.sha256(api_key.encode()).hexdigest()

    def get(self, api_key: str) -> Account | None:
        digest = self._digest(api_key)
        entry = self._entries.get(digest)
        if entry is None:
            return None
        expires, account = entry
        if self._clock() >= expires:
            del self._entries[digest]
            return None
        return account

    def put(self, api_key: str, account: Account) -> None:
        if self._ttl <= 0:
            return
        digest = self._digest(api_key)
        self._entries[digest] = (self._clock() + self._ttl, account)
        self._entries.move_to_end(digest)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
