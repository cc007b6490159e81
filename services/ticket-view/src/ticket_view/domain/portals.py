"""Portal configuration events as versioned field-group updates of the portal row.

Business rule: a portal's events carry its aggregate `version`; each field group (title,
domain, visibility, ticket display, status) keeps the value of the highest version that set
it, so redelivery and reordering converge. `portal.access_configured` does not concern the
ticket read model; `member.*` events are not portal events and are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

TITLE = "title"
DOMAIN = "domain"
VISIBILITY = "visibility"
DISPLAY = "ticket_display"
STATUS = "status"

GROUP_COLUMNS: dict[str, tuple[str, ...]] = {
    TITLE: ("title",),
    DOMAIN: ("domain", "slug", "language"),
    VISIBILITY: ("default_inbox_id", "visibility"),
    DISPLAY: ("ticket_display",),
    STATUS: ("status",),
}
JSON_COLUMNS = frozenset({"visibility", "ticket_display"})


@dataclass(frozen=True, slots=True)
class PortalUpdate:
    account_id: str
    portal_id: str
    group: str
    version: int
    values: tuple[Any, ...]


def to_updates(event: Any) -> list[PortalUpdate]:
    """The field-group updates one portal event stands for (possibly none)."""

    def update(group: str, *values: Any) -> PortalUpdate:
        return PortalUpdate(event.account_id, event.portal_id, group, event.version, values)

    data = event.data
    match event.type:
        case "portal.created":
            return [update(TITLE, data.title), update(STATUS, "draft")]
        case "portal.domain_set":
            return [update(DOMAIN, data.domain, data.slug, data.language)]
        case "portal.tickets_configured":
            visibility = data.visibility.model_dump(mode="json")
            return [update(VISIBILITY, data.default_inbox_id, visibility)]
        case "portal.settings_changed":
            updates = []
            if data.title is not None:
                updates.append(update(TITLE, data.title))
            if data.ticket_display is not None:
                updates.append(update(DISPLAY, data.ticket_display.model_dump(mode="json")))
            return updates
        case "portal.activated":
            return [update(STATUS, "active")]
        case "portal.deactivated":
            return [update(STATUS, "inactive")]
    return []


def collapse(updates: Iterable[PortalUpdate]) -> dict[str, list[PortalUpdate]]:
    """The highest-version update per (portal, field group), grouped by field group."""
    winners: dict[tuple[str, str, str], PortalUpdate] = {}
    for item in updates:
        slot = (item.account_id, item.portal_id, item.group)
        current = winners.get(slot)
        if current is None or item.version > current.version:
            winners[slot] = item
    by_group: dict[str, list[PortalUpdate]] = {}
    for item in winners.values():
        by_group.setdefault(item.group, []).append(item)
    return by_group
