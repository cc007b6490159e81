"""CRM events as row changes of the read model, and last-writer-wins among them.

Business rules:
- Every CRM event carries the full state of one entity or one association, so the latest
  event per key wins, ordered by (`occurred_at`, `event_id`); any delivery order converges.
- A deletion or a dissociation is a tombstone state of its key with its own version: an older
  upsert or association arriving later does not resurrect it.
- A ticket never updated has `updated_at` = `created_at`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

Version = tuple[datetime, str]

CONTACTS = "contacts"
COMPANIES = "companies"
TICKETS = "tickets"
TICKET_CONTACTS = "ticket_contacts"
TICKET_COMPANIES = "ticket_companies"
MESSAGES = "messages"

KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    CONTACTS: ("account_id", "contact_id"),
    COMPANIES: ("account_id", "company_id"),
    TICKETS: ("account_id", "ticket_id"),
    TICKET_CONTACTS: ("account_id", "ticket_id", "contact_id"),
    TICKET_COMPANIES: ("account_id", "ticket_id", "company_id"),
    MESSAGES: ("account_id", "ticket_id", "message_id"),
}
VALUE_COLUMNS: dict[str, tuple[str, ...]] = {
    CONTACTS: (
        "email",
        "firstname",
        "lastname",
        "primary_company_id",
        "language",
        "properties",
        "deleted",
    ),
    COMPANIES: ("name", "domain", "properties", "deleted"),
    TICKETS: (
        "subject",
        "content",
        "pipeline",
        "stage",
        "status",
        "priority",
        "inbox_id",
        "created_at",
        "updated_at",
        "properties",
        "deleted",
    ),
    TICKET_CONTACTS: ("associated",),
    TICKET_COMPANIES: ("associated",),
    MESSAGES: ("author_type", "author_id", "author_name", "body", "public", "created_at"),
}
JSON_COLUMNS = frozenset({"properties"})


class Change(NamedTuple):
    """The new state of one key of one table, as of `version` (a tuple: cheap to build)."""

    table: str
    key: tuple[str, ...]
    version: Version
    values: tuple[Any, ...]


def to_change(account_id: str, event: Any) -> Change:
    """The row change one CRM event stands for."""
    version: Version = (event.occurred_at, event.event_id)
    data = event.data
    match event.type:
        case "contact.upserted":
            values: tuple[Any, ...] = (
                data.email,
                data.firstname,
                data.lastname,
                data.primary_company_id,
                data.language,
                dict(data.properties),
                False,
            )
            return Change(CONTACTS, (account_id, data.contact_id), version, values)
        case "contact.deleted":
            return Change(CONTACTS, (account_id, data.contact_id), version, _tombstone(CONTACTS))
        case "company.upserted":
            values = (data.name, data.domain, dict(data.properties), False)
            return Change(COMPANIES, (account_id, data.company_id), version, values)
        case "company.deleted":
            return Change(COMPANIES, (account_id, data.company_id), version, _tombstone(COMPANIES))
        case "ticket.upserted":
            values = (
                data.subject,
                data.content,
                data.pipeline,
                data.stage,
                data.status,
                data.priority,
                data.inbox_id,
                data.created_at,
                data.updated_at or data.created_at,
                dict(data.properties),
                False,
            )
            return Change(TICKETS, (account_id, data.ticket_id), version, values)
        case "ticket.deleted":
            return Change(TICKETS, (account_id, data.ticket_id), version, _tombstone(TICKETS))
        case "ticket.contact_associated" | "ticket.contact_dissociated":
            key = (account_id, data.ticket_id, data.contact_id)
            associated = event.type == "ticket.contact_associated"
            return Change(TICKET_CONTACTS, key, version, (associated,))
        case "ticket.company_associated" | "ticket.company_dissociated":
            key = (account_id, data.ticket_id, data.company_id)
            associated = event.type == "ticket.company_associated"
            return Change(TICKET_COMPANIES, key, version, (associated,))
        case "ticket.message_added":
            values = (
                data.author.type,
                data.author.id,
                data.author.name,
                data.body,
                data.public,
                data.created_at,
            )
            return Change(MESSAGES, (account_id, data.ticket_id, data.message_id), version, values)
    raise ValueError(f"not a CRM event type: {event.type!r}")


def _tombstone(table: str) -> tuple[Any, ...]:
    columns = VALUE_COLUMNS[table]
    return tuple(True if c == "deleted" else ({} if c in JSON_COLUMNS else None) for c in columns)


def collapse(changes: Iterable[Change]) -> dict[str, list[Change]]:
    """The winning change per key, grouped by table: what a batch has to write."""
    winners: dict[tuple[str, tuple[str, ...]], Change] = {}
    for change in changes:
        slot = (change.table, change.key)
        current = winners.get(slot)
        if current is None or change.version > current.version:
            winners[slot] = change
    by_table: dict[str, list[Change]] = {}
    for change in winners.values():
        by_table.setdefault(change.table, []).append(change)
    return by_table
