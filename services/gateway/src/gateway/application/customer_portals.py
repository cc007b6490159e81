"""Customer-side portal lookup: `Host` + slug → the active portal and its account.

Resolutions are remembered for a short time (`ttl` seconds) so that a page and its API calls
cost one lookup; refusals are never remembered, so a portal that has just been activated is
found at once, while a deactivated one may answer for at most `ttl` more seconds.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from portal_contracts.portal import PortalView


@dataclass(frozen=True)
class CustomerPortal:
    account_id: str
    view: PortalView

    @property
    def id(self) -> str:
        return self.view.id


Resolver = Callable[[str, str], Awaitable[CustomerPortal | None]]


class PortalCache:
    def __init__(self, ttl: float, clock: Callable[[], float], max_entries: int = 10_000) -> None:
        self._ttl = ttl
        self._clock = clock
        self._max = max_entries
        self._entries: OrderedDict[tuple[str, str], tuple[float, CustomerPortal]] = OrderedDict()

    async def resolve(self, host: str, slug: str, resolver: Resolver) -> CustomerPortal | None:
        key = (host, slug)
        entry = self._entries.get(key)
        now = self._clock()
        if entry is not None and now < entry[0]:
            return entry[1]
        portal = await resolver(host, slug)
        if portal is None:
            self._entries.pop(key, None)
            return None
        if self._ttl > 0:
            self._entries[key] = (now + self._ttl, portal)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return portal
