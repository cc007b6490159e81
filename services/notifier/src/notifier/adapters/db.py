"""PostgreSQL: the `deliveries` table and its repository (SQLAlchemy Core, psycopg 3)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    and_,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from notifier.application.ports import NewDelivery
from notifier.domain.delivery import (
    CANCELLABLE_STATES,
    DUE_STATES,
    Delivery,
    DeliveryState,
    EmailKind,
)

metadata = MetaData()

deliveries = Table(
    "deliveries",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("event_type", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("portal_id", Text, nullable=False),
    Column("contact_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("state", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("send_after", DateTime(timezone=True), nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text),
    Column("message_id", Text, nullable=False),
    Column("recipient", Text),
    Column("correlation_id", Text),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Index(
        "ix_deliveries_due",
        "next_attempt_at",
        postgresql_where=text("state IN ('pending', 'failed', 'sending')"),
    ),
    Index("ix_deliveries_contact", "account_id", "portal_id", "contact_id"),
)


def sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> AsyncEngine:
    return create_async_engine(sqlalchemy_url(url), pool_size=5, max_overflow=5, pool_pre_ping=True)


async def create_schema(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("SELECT pg_advisory_xact_lock(7312001)"))
        await conn.run_sync(metadata.create_all)


def _delivery(row: Any) -> Delivery:
    return Delivery(
        event_id=row.event_id,
        event_type=row.event_type,
        kind=EmailKind(row.kind),
        account_id=row.account_id,
        portal_id=row.portal_id,
        contact_id=row.contact_id,
        version=row.version,
        state=DeliveryState(row.state),
        attempts=row.attempts,
        send_after=row.send_after,
        next_attempt_at=row.next_attempt_at,
        message_id=row.message_id,
        correlation_id=row.correlation_id,
        last_error=row.last_error,
        recipient=row.recipient,
    )


class SqlDeliveryRepository:
    """Every method is one short transaction; claims use `FOR UPDATE SKIP LOCKED` so that
    several notifier replicas share the work without sending one delivery twice."""

    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def record(self, new: NewDelivery, now: datetime) -> bool:
        stmt = (
            insert(deliveries)
            .values(
                event_id=new.event_id,
                event_type=new.event_type,
                kind=new.kind.value,
                account_id=new.account_id,
                portal_id=new.portal_id,
                contact_id=new.contact_id,
                version=new.version,
                state=new.state.value,
                last_error=new.note,
                attempts=0,
                send_after=new.send_after,
                next_attempt_at=new.send_after,
                message_id=new.message_id,
                correlation_id=new.correlation_id,
                occurred_at=new.occurred_at,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["event_id"])
        )
        async with self.engine.begin() as conn:
            result = await conn.execute(stmt)
        return bool(result.rowcount)

    async def cancel_invitations(
        self, account_id: str, portal_id: str, contact_id: str, before_version: int, now: datetime
    ) -> int:
        stmt = (
            update(deliveries)
            .where(
                deliveries.c.account_id == account_id,
                deliveries.c.portal_id == portal_id,
                deliveries.c.contact_id == contact_id,
                deliveries.c.kind == EmailKind.REGISTRATION.value,
                deliveries.c.version < before_version,
                deliveries.c.state.in_([s.value for s in CANCELLABLE_STATES]),
            )
            .values(
                state=DeliveryState.CANCELLED.value,
                last_error="invitation_cancelled",
                updated_at=now,
            )
        )
        async with self.engine.begin() as conn:
            result = await conn.execute(stmt)
        return int(result.rowcount or 0)

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Delivery]:
        due = (
            select(deliveries.c.event_id)
            .where(
                deliveries.c.state.in_([s.value for s in DUE_STATES]),
                deliveries.c.next_attempt_at <= now,
            )
            .order_by(deliveries.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("due")
        )
        stmt = (
            update(deliveries)
            .where(deliveries.c.event_id == due.c.event_id)
            .values(
                state=DeliveryState.SENDING.value,
                attempts=deliveries.c.attempts + 1,
                next_attempt_at=lease_until,
                updated_at=now,
            )
            .returning(*deliveries.c)
        )
        async with self.engine.begin() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_delivery(r) for r in rows]

    async def finish(
        self,
        delivery: Delivery,
        state: DeliveryState,
        now: datetime,
        next_attempt_at: datetime | None = None,
        error: str | None = None,
        recipient: str | None = None,
    ) -> bool:
        values: dict[str, Any] = {"state": state.value, "updated_at": now, "last_error": error}
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        if recipient is not None:
            values["recipient"] = recipient
        if state is DeliveryState.SENT:
            values["sent_at"] = now
        stmt = (
            update(deliveries)
            .where(
                and_(
                    deliveries.c.event_id == delivery.event_id,
                    deliveries.c.state == DeliveryState.SENDING.value,
                    deliveries.c.attempts == delivery.attempts,
                )
            )
            .values(**values)
        )
        async with self.engine.begin() as conn:
            result = await conn.execute(stmt)
        return bool(result.rowcount)

    async def get(self, event_id: str) -> Delivery | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(select(deliveries).where(deliveries.c.event_id == event_id))
            ).first()
        return _delivery(row) if row else None

    async def all(self) -> list[Delivery]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(deliveries).order_by(deliveries.c.created_at))).all()
        return [_delivery(r) for r in rows]

    async def count_open(self) -> dict[str, int]:
        stmt = (
            select(deliveries.c.state, func.count())
            .where(deliveries.c.state.in_([s.value for s in DUE_STATES]))
            .group_by(deliveries.c.state)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return {state: int(count) for state, count in rows}

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
