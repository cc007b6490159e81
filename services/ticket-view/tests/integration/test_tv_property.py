"""Property: random CRM events, in random order, with duplicates, in random batches, through
the real projection code → exactly the visible sets an in-memory oracle computes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from portal_contracts.filters import Filter, groups_match
from portal_contracts.ticket_view_rpc import ListTickets
from ticket_view.adapters import db
from ticket_view.adapters.projection_store import PgProjectionStore
from ticket_view.adapters.read_model import PgReadModel
from ticket_view.adapters.schema import create_schema
from ticket_view.application import queries
from ticket_view.application.projection import StreamMessage, apply_batch, plan_config, plan_crm

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CONTACTS = ["c0", "c1", "c2"]
COMPANIES = ["co0", "co1"]
TICKETS = ["t0", "t1", "t2", "t3", "t4"]
GOLD = [[Filter(property="tier", operator="eq", value="gold")]]
DELETED = st.sampled_from([False, False, False, True])


class NoDeadLetters:
    async def park(self, poison: Any) -> None:
        raise AssertionError(f"unexpected poison: {poison}")


def _entity(kind: str):
    if kind == "contact":
        return st.builds(
            lambda cid, co, tier, deleted: (
                ("contact.deleted", {"contact_id": cid})
                if deleted
                else (
                    "contact.upserted",
                    {
                        "contact_id": cid,
                        "email": f"{cid}@x.io",
                        "primary_company_id": co,
                        "properties": {"tier": tier},
                    },
                )
            ),
            st.sampled_from(CONTACTS),
            st.sampled_from([None, *COMPANIES]),
            st.sampled_from(["gold", "silver"]),
            DELETED,
        )
    if kind == "company":
        return st.builds(
            lambda co, deleted: (
                ("company.deleted", {"company_id": co})
                if deleted
                else ("company.upserted", {"company_id": co, "name": co})
            ),
            st.sampled_from(COMPANIES),
            DELETED,
        )
    if kind == "ticket":
        return st.builds(
            lambda tid, pipeline, deleted: (
                ("ticket.deleted", {"ticket_id": tid})
                if deleted
                else (
                    "ticket.upserted",
                    {
                        "ticket_id": tid,
                        "subject": tid,
                        "pipeline": pipeline,
                        "stage": "s",
                        "status": "open",
                        "created_at": T0.isoformat(),
                    },
                )
            ),
            st.sampled_from(TICKETS),
            st.sampled_from(["support", "support", "billing"]),
            DELETED,
        )
    if kind == "contact_link":
        return st.builds(
            lambda tid, cid, on: (
                "ticket.contact_associated" if on else "ticket.contact_dissociated",
                {"ticket_id": tid, "contact_id": cid},
            ),
            st.sampled_from(TICKETS),
            st.sampled_from(CONTACTS),
            st.booleans(),
        )
    return st.builds(
        lambda tid, co, on: (
            "ticket.company_associated" if on else "ticket.company_dissociated",
            {"ticket_id": tid, "company_id": co},
        ),
        st.sampled_from(TICKETS),
        st.sampled_from(COMPANIES),
        st.booleans(),
    )


event_body = st.one_of(
    *(_entity(k) for k in ("contact", "company", "ticket", "contact_link", "company_link"))
)
timed_event = st.tuples(event_body, st.integers(0, 12), st.integers(0, 99))
link = st.one_of(_entity("contact_link"), _entity("company_link"))
world = st.tuples(
    st.lists(
        st.tuples(_entity("contact"), st.integers(0, 12), st.integers(0, 99)),
        min_size=len(CONTACTS),
        max_size=len(CONTACTS),
    ),
    st.lists(st.tuples(link, st.integers(0, 12), st.integers(0, 99)), min_size=4, max_size=15),
)


def _key(type_: str, data: dict[str, Any]) -> tuple[str, ...]:
    if type_.startswith("contact."):
        return ("contact", data["contact_id"])
    if type_.startswith("company."):
        return ("company", data["company_id"])
    if type_.startswith("ticket.contact_"):
        return ("tc", data["ticket_id"], data["contact_id"])
    if type_.startswith("ticket.company_"):
        return ("tco", data["ticket_id"], data["company_id"])
    return ("ticket", data["ticket_id"])


def oracle(events: list[dict[str, Any]], mode: str, pipelines: list[str] | None):
    winners: dict[tuple[str, ...], dict[str, Any]] = {}
    for e in events:
        key = _key(e["type"], e["data"])
        current = winners.get(key)
        if current is None or (e["occurred_at"], e["event_id"]) > (
            current["occurred_at"],
            current["event_id"],
        ):
            winners[key] = e

    def alive(*key: str) -> dict[str, Any] | None:
        e = winners.get(key)
        return e["data"] if e and e["type"].endswith("upserted") else None

    def linked(*key: str) -> bool:
        e = winners.get(key)
        return bool(e and e["type"].endswith("_associated"))

    def live_ticket(tid: str) -> bool:
        t = alive("ticket", tid)
        return bool(t) and (pipelines is None or t["pipeline"] in pipelines)

    result = {}
    for cid in CONTACTS:
        contact = alive("contact", cid)
        if contact is None:
            result[cid] = set()
            continue
        seen = {t for t in TICKETS if linked("tc", t, cid) and live_ticket(t)}
        co = contact.get("primary_company_id")
        props = {**contact["properties"], "email": contact["email"], "primary_company_id": co}
        company_mode = mode == "company" or (
            mode == "company_for_some" and groups_match(GOLD, props) is not None
        )
        if company_mode and co and alive("company", co):
            seen |= {t for t in TICKETS if linked("tco", t, co) and live_ticket(t)}
        result[cid] = seen
    return result


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    base=world,
    timed=st.lists(timed_event, min_size=0, max_size=25),
    duplicates=st.lists(st.integers(0, 60), max_size=10),
    order=st.randoms(use_true_random=False),
    batch_sizes=st.lists(st.integers(1, 15), min_size=1, max_size=5),
    mode=st.sampled_from(["own", "company", "company_for_some"]),
    pipelines=st.sampled_from([None, ["support"]]),
)
async def test_any_delivery_order_converges_to_the_oracle(
    tv_database, base, timed, duplicates, order, batch_sizes, mode, pipelines
):
    pool, conn = tv_database
    account = f"a{uuid.uuid4().hex[:12]}"
    contacts, links = base
    everyone = [
        *[(("contact.upserted", _contact(c, i)), 0, 0) for i, c in enumerate(CONTACTS)],
        *[(("company.upserted", {"company_id": co, "name": co}), 0, 0) for co in COMPANIES],
        *[(("ticket.upserted", _ticket(t)), 0, 0) for t in TICKETS],
    ]
    timed = [*everyone, *contacts, *links, *timed]
    events = [
        {
            "event_id": f"e{salt:02d}x{i}",
            "type": type_,
            "occurred_at": (T0 + timedelta(seconds=tick)).isoformat(),
            "data": data,
        }
        for i, ((type_, data), tick, salt) in enumerate(timed)
    ]
    delivered = events + [events[i] for i in duplicates if i < len(events)]
    order.shuffle(delivered)
    messages = [
        StreamMessage(seq, "s", json.dumps({"account_id": account, "event": e}).encode())
        for seq, e in enumerate(delivered, start=1)
    ]
    store = PgProjectionStore(conn)
    start, step = 0, 0
    while start < len(messages):
        size = batch_sizes[step % len(batch_sizes)]
        await apply_batch(store, NoDeadLetters(), account, plan_crm, messages[start : start + size])
        start, step = start + size, step + 1
    await _configure_portal(store, account, mode, pipelines)

    expected = oracle(events, mode, pipelines)
    model = PgReadModel(pool)
    for cid in CONTACTS:
        request = ListTickets(account_id=account, portal_id="p", contact_id=cid, limit=100)
        page = await queries.list_tickets(model, request)
        assert {item["id"] for item in page["items"]} == expected[cid], cid


def _contact(cid: str, i: int) -> dict[str, Any]:
    tier = "gold" if i % 2 == 0 else "silver"
    co = COMPANIES[i % len(COMPANIES)]
    return {
        "contact_id": cid,
        "email": f"{cid}@x.io",
        "primary_company_id": co,
        "properties": {"tier": tier},
    }


def _ticket(tid: str) -> dict[str, Any]:
    return {
        "ticket_id": tid,
        "subject": tid,
        "pipeline": "support",
        "stage": "s",
        "status": "open",
        "created_at": T0.isoformat(),
    }


async def _configure_portal(store, account: str, mode: str, pipelines: list[str] | None) -> None:
    visibility: dict[str, Any] = {"mode": mode}
    if mode == "company_for_some":
        visibility["contact_filters"] = [[f.model_dump() for f in GOLD[0]]]
    base = {"account_id": account, "portal_id": "p", "occurred_at": T0.isoformat()}
    config = [
        {**base, "event_id": "p1", "version": 1, "type": "portal.created", "data": {"title": "x"}},
        {
            **base,
            "event_id": "p2",
            "version": 2,
            "type": "portal.tickets_configured",
            "data": {"default_inbox_id": "i", "visibility": visibility},
        },
        {
            **base,
            "event_id": "p3",
            "version": 3,
            "type": "portal.settings_changed",
            "data": {"ticket_display": {"pipelines": pipelines}},
        },
    ]
    messages = [StreamMessage(i, "s", json.dumps(e).encode()) for i, e in enumerate(config, 1)]
    await apply_batch(store, NoDeadLetters(), f"config-{account}", plan_config, messages)


@pytest.fixture
async def tv_database(make_database):
    url = make_database("tvprop")
    conn = await db.connect(url, autocommit=True)
    await create_schema(conn)
    pool = await db.open_pool(url, max_size=2)
    try:
        yield pool, conn
    finally:
        await pool.close()
        await conn.close()
