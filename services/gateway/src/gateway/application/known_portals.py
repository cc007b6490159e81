"""Which portal ids are known to belong to which account.

Portals are never deleted and never change account, so once portal-config confirmed that a
portal exists in an account, that stays true: remembering it is always correct and spares
portal-config a look-up on every preview. Only confirmations are kept (an unknown id is
asked again next time); the memory is bounded (least recently used entries go first).
"""

from __future__ import annotations

from collections import OrderedDict


class KnownPortals:
    def __init__(self, max_entries: int = 100_000) -> None:
        self._max = max_entries
        self._known: OrderedDict[tuple[str, str], None] = OrderedDict()

    def __contains__(self, key: tuple[str, str]) -> bool:
        if key in self._known:
            self._known.move_to_end(key)
            return True
        return False

    def add(self, account_id: str, portal_id: str) -> None:
        self._known[(account_id, portal_id)] = None
        self._known.move_to_end((account_id, portal_id))
        while len(self._known) > self._max:
            self._known.popitem(last=False)
