"""Projecting a batch of stream messages into the read model, exactly once in effect.

Business rules:
- A batch is applied in ONE transaction together with the projection's tracking position
  (the stream sequence of its last message); messages at or below the stored position were
  applied already and are skipped, so redelivery and replays change nothing.
- Within a batch only the winner per key is written (last-writer-wins, see `domain.changes`).
- A poison message (unparseable, unknown type or schema version, invalid) is parked on the
  dead-letter subject with its raw payload and the reason, and the projection moves on.
- `member.*` events share the configuration stream and are skipped without parking.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from portal_contracts import SCHEMA_VERSION
from portal_contracts.crm import CRM_EVENT_TYPES, CrmRecord
from portal_contracts.portal import PortalEvent
from pydantic import TypeAdapter, ValidationError

from ..domain import changes as ch
from ..domain import portals as pt

CRM = "crm"
CONFIG = "config"
PORTAL_EVENT_TYPES = frozenset(
    {
        "portal.created",
        "portal.domain_set",
        "portal.tickets_configured",
        "portal.access_configured",
        "portal.settings_changed",
        "portal.activated",
        "portal.deactivated",
    }
)

_crm_record = TypeAdapter(CrmRecord)
_portal_event: TypeAdapter[Any] = TypeAdapter(PortalEvent)


class StreamMessage(NamedTuple):
    seq: int
    subject: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Poison:
    message: StreamMessage
    reason: str
    detail: str


@dataclass
class Plan:
    changes: dict[str, list[ch.Change]] = field(default_factory=dict)
    portal_updates: dict[str, list[pt.PortalUpdate]] = field(default_factory=dict)
    poison: list[Poison] = field(default_factory=list)
    encoded: Any = None
    """The store's encoding of `changes`, when computed ahead of the transaction."""
    first_seq: int = 0
    """The stream sequence of the batch's first message: a staged rebuild's tie-breaker."""


@dataclass(frozen=True)
class BatchResult:
    applied: int
    skipped: int
    parked: int


class ProjectionTx(Protocol):
    async def position(self, projection: str) -> int: ...
    async def write(self, plan: Plan) -> None: ...
    async def set_position(self, projection: str, stream_seq: int) -> None: ...


class ProjectionStore(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[ProjectionTx]: ...


class DeadLetters(Protocol):
    async def park(self, poison: Poison) -> None: ...


Planner = Callable[[Sequence[StreamMessage]], Plan]


def _classify(data: bytes, event_of: Callable[[Any], Any], known: frozenset[str]) -> str:
    try:
        document = json.loads(data)
    except ValueError:
        return "unparseable"
    event = event_of(document) if isinstance(document, dict) else None
    if not isinstance(event, dict):
        return "invalid"
    if event.get("type") not in known:
        return "unknown_type"
    if event.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION:
        return "unknown_schema_version"
    return "invalid"


def plan_crm(messages: Sequence[StreamMessage]) -> Plan:
    plan = Plan(first_seq=messages[0].seq if messages else 0)
    found: list[ch.Change] = []
    for message in messages:
        try:
            record = _crm_record.validate_json(message.data)
        except ValidationError as exc:
            reason = _classify(message.data, lambda d: d.get("event"), frozenset(CRM_EVENT_TYPES))
            plan.poison.append(Poison(message, reason, _short(exc)))
            continue
        found.append(ch.to_change(record.account_id, record.event))
    plan.changes = ch.collapse(found)
    return plan


def plan_config(messages: Sequence[StreamMessage]) -> Plan:
    plan = Plan()
    found: list[pt.PortalUpdate] = []
    for message in messages:
        try:
            event = _portal_event.validate_json(message.data)
        except ValidationError as exc:
            if _is_member_event(message.data):
                continue
            reason = _classify(message.data, lambda d: d, PORTAL_EVENT_TYPES)
            plan.poison.append(Poison(message, reason, _short(exc)))
            continue
        found.extend(pt.to_updates(event))
    plan.portal_updates = pt.collapse(found)
    return plan


def _is_member_event(data: bytes) -> bool:
    try:
        document = json.loads(data)
    except ValueError:
        return False
    kind = document.get("type") if isinstance(document, dict) else None
    return isinstance(kind, str) and kind.startswith("member.")


def _short(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3])[
        :500
    ]


async def apply_batch(
    store: ProjectionStore,
    dead_letters: DeadLetters,
    projection: str,
    planner: Planner,
    messages: Sequence[StreamMessage],
    prepared: Plan | None = None,
) -> BatchResult:
    """Applies the messages above the stored position, with the new position, atomically.

    `prepared` is `planner(messages)` computed ahead (while the previous batch was written);
    it is used only when every message is above the stored position."""
    async with store.transaction() as tx:
        position = await tx.position(projection)
        fresh = [m for m in messages if m.seq > position]
        if not fresh:
            return BatchResult(0, len(messages), 0)
        plan = prepared if prepared is not None and len(fresh) == len(messages) else None
        if plan is None:
            plan = planner(fresh)
        for poison in plan.poison:
            await dead_letters.park(poison)
        await tx.write(plan)
        await tx.set_position(projection, max(m.seq for m in fresh))
    return BatchResult(len(fresh) - len(plan.poison), len(messages) - len(fresh), len(plan.poison))
