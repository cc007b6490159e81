"""Customer ticket writes: a new ticket, a reply, closing — published as CRM events.

Business rules:
- Object-level authorization: a reply or a close needs a ticket the contact can see now
  (ticket-view `tickets.get`); otherwise it does not exist for them (`NotVisible` → 404).
- Closing needs the portal's `ticket_display.allow_close` (`CloseNotAllowed` → 403); closing
  a closed ticket changes nothing and publishes nothing.
- Read-your-writes: after publishing, the answer waits (at most `wait_seconds`) until
  ticket-view shows the change, and answers with ticket-view's own view, so the customer's
  next read shows it. Should ticket-view lag further, the answer is built from what was
  published (the change is stored either way; a retry would duplicate it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import structlog
from portal_contracts.crm import CrmEvent, TicketMessageAdded, TicketUpserted
from portal_contracts.portal import PortalView

from ..domain.customer_events import Customer, NewId, closed, message_added, new_ticket
from ..domain.support_form import TicketDraft

log = structlog.get_logger("gateway.customer")

Publish = Callable[[str, Sequence[CrmEvent]], Awaitable[object]]
Check = Callable[[dict[str, Any]], bool]


class TicketReader(Protocol):
    async def get(self, ticket_id: str) -> dict[str, Any] | None:
        """The ticket with its public messages when the contact can see it, else None."""

    async def state(self, ticket_id: str) -> dict[str, Any] | None:
        """The ticket's whole CRM state (`TicketData`) when the contact can see it, else None."""


class NotVisible(Exception):
    pass


class CloseNotAllowed(Exception):
    pass


@dataclass
class CustomerDesk:
    publish: Publish
    clock: Callable[[], datetime]
    new_id: NewId
    wait_seconds: float
    poll_seconds: float = 0.02
    observe_wait: Callable[[str, float, bool], None] | None = None

    async def submit(
        self,
        account_id: str,
        portal: PortalView,
        customer: Customer,
        draft: TicketDraft,
        reader: TicketReader,
    ) -> dict[str, Any]:
        ticket_id, events = new_ticket(portal, customer, draft, self.clock(), self.new_id)
        await self.publish(account_id, events)
        message_id = (
            events[-1].data.message_id if isinstance(events[-1], TicketMessageAdded) else ""
        )
        seen = await self._until("ticket", reader, ticket_id, lambda t: _has_message(t, message_id))
        if seen is not None:
            return seen
        upserted = events[0]
        assert isinstance(upserted, TicketUpserted)
        return _local_ticket(portal, upserted, [_local_message(events[-1])])

    async def reply(
        self, account_id: str, customer: Customer, ticket_id: str, body: str, reader: TicketReader
    ) -> dict[str, Any]:
        if await reader.get(ticket_id) is None:
            raise NotVisible(ticket_id)
        event = message_added(ticket_id, self.new_id(), customer, body, self.clock(), self.new_id)
        await self.publish(account_id, [event])
        message_id = event.data.message_id
        seen = await self._until(
            "message", reader, ticket_id, lambda t: _has_message(t, message_id)
        )
        if seen is not None:
            for message in seen.get("messages", []):
                if message.get("id") == message_id:
                    return dict(message)
        return _local_message(event)

    async def close(
        self, account_id: str, portal: PortalView, ticket_id: str, reader: TicketReader
    ) -> dict[str, Any]:
        if not portal.ticket_display.allow_close:
            raise CloseNotAllowed(ticket_id)
        current = await reader.get(ticket_id)
        state = await reader.state(ticket_id)
        if current is None or state is None:
            raise NotVisible(ticket_id)
        if current.get("status") == "closed":
            return current
        event = closed(state, self.clock(), self.new_id)
        await self.publish(account_id, [event])
        seen = await self._until("close", reader, ticket_id, lambda t: t.get("status") == "closed")
        if seen is not None:
            return seen
        return current | {"status": "closed", "updated_at": self.clock().isoformat()}

    async def _until(
        self, what: str, reader: TicketReader, ticket_id: str, check: Check
    ) -> dict[str, Any] | None:
        started = time.perf_counter()
        deadline = started + self.wait_seconds
        while True:
            ticket = await reader.get(ticket_id)
            if ticket is not None and check(ticket):
                self._observe(what, started, True)
                return ticket
            if time.perf_counter() >= deadline:
                self._observe(what, started, False)
                log.warning("read_your_writes_timeout", what=what, ticket_id=ticket_id)
                return None
            await asyncio.sleep(self.poll_seconds)

    def _observe(self, what: str, started: float, seen: bool) -> None:
        if self.observe_wait is not None:
            self.observe_wait(what, time.perf_counter() - started, seen)


def _has_message(ticket: dict[str, Any], message_id: str) -> bool:
    return any(m.get("id") == message_id for m in ticket.get("messages") or [])


def _local_message(event: CrmEvent) -> dict[str, Any]:
    assert isinstance(event, TicketMessageAdded)
    data = event.data
    return {
        "id": data.message_id,
        "author": {"type": data.author.type, "name": data.author.name},
        "body": data.body,
        "created_at": data.created_at.isoformat(),
    }


def _local_ticket(
    portal: PortalView, event: TicketUpserted, messages: list[dict[str, Any]]
) -> dict[str, Any]:
    data = event.data
    labels = portal.ticket_display.status_labels or {}
    shown = set(portal.ticket_display.properties or [])
    return {
        "id": data.ticket_id,
        "subject": data.subject,
        "status": data.status,
        "stage": data.stage,
        "status_label": labels.get(data.stage, data.stage),
        "pipeline": data.pipeline,
        "priority": data.priority,
        "created_at": data.created_at.isoformat(),
        "updated_at": (data.updated_at or data.created_at).isoformat(),
        "properties": {k: v for k, v in data.properties.items() if k in shown},
        "scope": "own",
        "messages": messages,
    }
