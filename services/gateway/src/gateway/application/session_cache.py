"""A few seconds' memory of live customer sessions, so that a member's burst of reads costs
one session check instead of one per request.

Rules (security first):
- Only sessions portal-config just confirmed live are remembered, for at most `ttl` seconds;
  refusals are never remembered. A session is remembered under the SHA-256 of its id and its
  portal, never in clear.
- When a member's sessions end (logout, password set, revocation), portal-config broadcasts
  it and every gateway forgets that member's sessions at once (`forget`); a gateway ending
  them itself forgets before it answers. A broadcast missed while the NATS connection was
  down cannot be trusted to have been missed only once: a change of the connection's state
  (`link`) forgets everything, and nothing is served from memory while disconnected.
- A check that was in flight while something was forgotten is not remembered (it may have
  read the session just before it ended).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SessionCache(Generic[T]):
    def __init__(
        self,
        ttl: float,
        clock: Callable[[], float],
        link: Callable[[], int | None],
        max_entries: int = 50_000,
    ) -> None:
        """`link()`: None while disconnected, else a number that changes at every reconnect."""
        self._ttl = ttl
        self._clock = clock
        self._link = link
        self._max = max_entries
        self._entries: OrderedDict[tuple[str, str], tuple[float, str, T]] = OrderedDict()
        self._seen_link: int | None = None
        self.generation = 0
        """Moves at every forgetting: `put` remembers nothing checked across one."""

    @staticmethod
    def _key(portal_id: str, session_id: str) -> tuple[str, str]:
        return portal_id, hashlib.sha256(session_id.encode()).hexdigest()

    def _usable(self) -> bool:
        link = self._link()
        if link != self._seen_link:
            self.clear()
            self._seen_link = link
        return link is not None

    def get(self, portal_id: str, session_id: str) -> T | None:
        if self._ttl <= 0 or not self._usable():
            return None
        key = self._key(portal_id, session_id)
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._clock() >= entry[0]:
            del self._entries[key]
            return None
        return entry[2]

    def put(
        self, portal_id: str, session_id: str, contact_id: str, session: T, generation: int
    ) -> None:
        if self._ttl <= 0 or generation != self.generation or not self._usable():
            return
        key = self._key(portal_id, session_id)
        self._entries[key] = (self._clock() + self._ttl, contact_id, session)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def forget(self, portal_id: str, contact_id: str) -> None:
        """Every remembered session of this member of this portal."""
        self.generation += 1
        ended = [k for k, e in self._entries.items() if k[0] == portal_id and e[1] == contact_id]
        for key in ended:
            del self._entries[key]

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
