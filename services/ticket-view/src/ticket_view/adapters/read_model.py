"""Query side of the read model (PostgreSQL).

The visible set is the UNION of the contact's associated tickets and, when the contact's
reach includes a company, that company's associated tickets. Association rows carry a copy of
their ticket's list fields, so each side is read from a partial index in sort order, keyset
first, and stops after `limit` rows; only the final page joins `tickets`. SQL text is built
per query shape so each shape gets its own prepared statement and plan.

`page` reads a list in one round trip: with the portal's rules as this process last read them
(`context` remembers them per portal with their versions), the statement reads the contact's
reach and the page together, and also the rules' current versions; when those moved on the
page is thrown away and the caller reads the context afresh. So a stale memory costs a second
round trip, never a stale answer — whichever process projects the changes.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from portal_contracts.portal import TicketDisplay, Visibility
from psycopg.rows import tuple_row
from psycopg_pool import AsyncConnectionPool

from ..application.queries import MessageRow, TicketQuery, TicketRow
from ..domain import changes as ch
from ..domain.visibility import ContactFacts, PortalRules, Reach

_LIST_COLUMNS = (
    "t.ticket_id, t.subject, t.status, t.stage, t.pipeline, t.priority, t.created_at, t.updated_at"
)
_STATE_COLUMNS = ("ticket_id", *(c for c in ch.VALUE_COLUMNS[ch.TICKETS] if c != "deleted"))
"""A live ticket's whole state: its key and every value column."""
_TICKET_COLUMNS = _LIST_COLUMNS + ", t.properties"
_CONTACT_SELECT = (
    "SELECT c.contact_id, c.email, c.firstname, c.lastname, c.primary_company_id, c.language, "
    "c.properties, co.company_id IS NOT NULL, co.name FROM contacts c "
    "LEFT JOIN companies co ON co.account_id = c.account_id "
    "AND co.company_id = c.primary_company_id AND NOT co.deleted "
)


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _branch(query: TicketQuery, table: str, who: str, value: str, own: str) -> str:
    """One side of the visible set, read in index order, at most `limit` rows."""
    key = f"a.t_{query.sort_column}"
    direction = "DESC" if query.descending else "ASC"
    conditions = [
        "a.account_id = %(account_id)s",
        f"a.{who} = {value}",
        "a.associated",
        "a.live",
    ]
    if query.pipelines is not None:
        conditions.append("a.pipeline = ANY(%(pipelines)s)")
    if query.status is not None:
        conditions.append("a.status = %(status)s")
    if query.after is not None:
        op = "<" if query.descending else ">"
        conditions.append(f"({key}, a.ticket_id) {op} (%(after_value)s, %(after_id)s)")
    join = ""
    if query.q is not None:
        join = "JOIN tickets t ON t.account_id = a.account_id AND t.ticket_id = a.ticket_id "
        conditions.append(
            "(t.subject ILIKE %(pattern)s OR t.content ILIKE %(pattern)s OR EXISTS ("
            "SELECT 1 FROM messages m WHERE m.account_id = a.account_id "
            "AND m.ticket_id = a.ticket_id AND m.public AND m.body ILIKE %(pattern)s))"
        )
    return (
        f"(SELECT a.ticket_id, {key} AS k, {own} AS own FROM {table} a {join}"
        f"WHERE {' AND '.join(conditions)} "
        f"ORDER BY {key} {direction}, a.ticket_id {direction} LIMIT %(limit)s)"
    )


def list_sql(
    query: TicketQuery, contact: str = "%(contact_id)s", company: str | None = None
) -> str:
    """Top `limit` of (own + company) by the sort key: each side contributes at most `limit`
    rows in index order, duplicates (own and company) merge, then the page joins tickets.
    `contact`/`company` are the SQL of the reach (parameters unless given); `v.k` is the
    sort key."""
    parts = [_branch(query, "ticket_contacts", "contact_id", contact, "true")]
    if company is None and query.reach.company_id is not None:
        company = "%(company_id)s"
    if company is not None:
        parts.append(_branch(query, "ticket_companies", "company_id", company, "false"))
    direction = "DESC" if query.descending else "ASC"
    return (
        f"SELECT {_LIST_COLUMNS}, {_properties(query)}, v.own, v.k FROM ("
        f"SELECT ticket_id, k, bool_or(own) AS own FROM ({' UNION ALL '.join(parts)}) u "
        f"GROUP BY ticket_id, k ORDER BY k {direction}, ticket_id {direction} "
        "LIMIT %(limit)s) v "
        "JOIN tickets t ON t.account_id = %(account_id)s AND t.ticket_id = v.ticket_id "
        f"ORDER BY v.k {direction}, v.ticket_id {direction}"
    )


def _properties(query: TicketQuery) -> str:
    """Only the portal's display properties leave the database: one key test per display
    property (a set-returning `jsonb_each` per row costs several times more)."""
    if not query.properties:
        return "'{}'::jsonb"
    picks = (
        f"CASE WHEN t.properties ? %(property_{i})s::text THEN jsonb_build_object("
        f"%(property_{i})s::text, t.properties -> %(property_{i})s::text) ELSE '{{}}'::jsonb END"
        for i in range(len(query.properties))
    )
    return "(" + " || ".join(picks) + ")"


def page_sql(query: TicketQuery, company_mode: bool) -> str:
    """The rules' versions, the contact's reach (company: its known, live primary company,
    as `reach_of` has it in `company` mode) and the page, in one statement; one row without a
    ticket when the page is empty, none when the portal is not there."""
    direction = "DESC" if query.descending else "ASC"
    company = "x.company_id" if company_mode else None
    return (
        "SELECT p.visibility_v, p.ticket_display_v, x.contact_id, x.company_id, l.* "
        "FROM portals p LEFT JOIN LATERAL (SELECT c.contact_id, CASE WHEN co.company_id "
        "IS NOT NULL THEN c.primary_company_id END AS company_id FROM contacts c "
        "LEFT JOIN companies co ON co.account_id = c.account_id "
        "AND co.company_id = c.primary_company_id AND NOT co.deleted "
        "WHERE c.account_id = p.account_id AND c.contact_id = %(contact_id)s "
        "AND NOT c.deleted) x ON true "
        f"LEFT JOIN LATERAL ({list_sql(query, 'x.contact_id', company)}) l ON true "
        "WHERE p.account_id = %(account_id)s AND p.portal_id = %(portal_id)s "
        f"ORDER BY l.k {direction}, l.ticket_id {direction}"
    )


def list_params(query: TicketQuery) -> dict[str, Any]:
    params: dict[str, Any] = {
        "account_id": query.account_id,
        "contact_id": query.reach.contact_id,
        "company_id": query.reach.company_id,
        "pipelines": query.pipelines,
        "status": query.status,
        "limit": query.limit,
    }
    for i, name in enumerate(query.properties or ()):
        params[f"property_{i}"] = name
    if query.after is not None:
        params["after_value"], params["after_id"] = query.after
    if query.q is not None:
        params["pattern"] = f"%{escape_like(query.q)}%"
    return params


_ONE_SQL = (
    f"SELECT {_TICKET_COLUMNS}, EXISTS (SELECT 1 FROM ticket_contacts "
    "WHERE account_id = %(account_id)s AND ticket_id = %(ticket_id)s "
    "AND contact_id = %(contact_id)s AND associated), "
    "EXISTS (SELECT 1 FROM ticket_companies WHERE account_id = %(account_id)s "
    "AND ticket_id = %(ticket_id)s AND company_id = %(company_id)s AND associated) "
    "FROM tickets t WHERE t.account_id = %(account_id)s AND t.ticket_id = %(ticket_id)s "
    "AND NOT t.deleted"
)


def _contact(account_id: str, row: Any) -> ContactFacts:
    return ContactFacts(
        account_id=account_id,
        contact_id=row[0],
        email=row[1],
        firstname=row[2],
        lastname=row[3],
        primary_company_id=row[4],
        language=row[5],
        properties=row[6] or {},
        company_known=bool(row[7]),
        company_name=row[8],
    )


def _ticket_row(row: Any, own: bool) -> TicketRow:
    return TicketRow(
        ticket_id=row[0],
        subject=row[1],
        status=row[2],
        stage=row[3],
        pipeline=row[4],
        priority=row[5],
        created_at=row[6],
        updated_at=row[7],
        properties=row[8] or {},
        own=own,
    )


class PgReadModel:
    def __init__(self, pool: AsyncConnectionPool, remembered_portals: int = 10_000):
        self._pool = pool
        self._rules: OrderedDict[tuple[str, str], PortalRules] = OrderedDict()
        self._max_rules = remembered_portals

    def _remember(self, rules: PortalRules) -> None:
        key = (rules.account_id, rules.portal_id)
        self._rules[key] = rules
        self._rules.move_to_end(key)
        while len(self._rules) > self._max_rules:
            self._rules.popitem(last=False)

    def remembered_rules(self, account_id: str, portal_id: str) -> PortalRules | None:
        """The portal's rules as `context` last read them, maybe outdated (see `page`)."""
        return self._rules.get((account_id, portal_id))

    async def _fetch(self, sql: str, params: Any) -> list[Any]:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=tuple_row)
            await cur.execute(sql, params)
            return await cur.fetchall()

    async def ping(self) -> bool:
        rows = await self._fetch("SELECT 1", None)
        return bool(rows)

    async def context(
        self, account_id: str, portal_id: str, contact_id: str
    ) -> tuple[PortalRules | None, ContactFacts | None]:
        """The portal and the contact in one round trip."""
        rows = await self._fetch(
            "SELECT p.visibility, p.ticket_display, p.visibility_v, p.ticket_display_v, x.* "
            "FROM portals p LEFT JOIN LATERAL ("
            + _CONTACT_SELECT
            + "WHERE c.account_id = p.account_id AND c.contact_id = %s AND NOT c.deleted) x "
            "ON true WHERE p.account_id = %s AND p.portal_id = %s",
            (contact_id, account_id, portal_id),
        )
        if not rows:
            return None, None
        visibility, display, visibility_v, display_v, *contact = rows[0]
        portal = PortalRules(
            account_id=account_id,
            portal_id=portal_id,
            visibility=Visibility.model_validate(visibility) if visibility else None,
            display=TicketDisplay.model_validate(display or {}),
            version=(visibility_v, display_v),
        )
        self._remember(portal)
        return portal, (_contact(account_id, contact) if contact[0] is not None else None)

    async def page(
        self, rules: PortalRules, query: TicketQuery
    ) -> tuple[Reach | None, list[TicketRow]] | None:
        """`query` (its reach's company aside) for the contact of `query.reach` in one round
        trip, when `rules` (mode `own` or `company`) are still the portal's: → (the contact's
        reach, None when the contact is unknown or deleted; the rows). None when the rules
        moved on or the portal is not there: read the context afresh."""
        company_mode = rules.mode == "company"
        params = list_params(query) | {"portal_id": rules.portal_id}
        rows = await self._fetch(page_sql(query, company_mode), params)
        if not rows or (rows[0][0], rows[0][1]) != rules.version:
            return None
        contact_id, company_id = rows[0][2], rows[0][3]
        if contact_id is None:
            return None, []
        reach = Reach(contact_id, company_id if company_mode else None)
        return reach, [_ticket_row(row[4:], bool(row[13])) for row in rows if row[4] is not None]

    async def contact(self, account_id: str, contact_id: str) -> ContactFacts | None:
        rows = await self._fetch(
            _CONTACT_SELECT + "WHERE c.account_id = %s AND c.contact_id = %s AND NOT c.deleted",
            (account_id, contact_id),
        )
        return _contact(account_id, rows[0]) if rows else None

    async def contact_by_email(self, account_id: str, email: str) -> ContactFacts | None:
        rows = await self._fetch(
            _CONTACT_SELECT + "WHERE c.account_id = %s AND lower(c.email) = lower(%s) "
            "AND NOT c.deleted ORDER BY c.occurred_at DESC, c.event_id DESC LIMIT 1",
            (account_id, email),
        )
        return _contact(account_id, rows[0]) if rows else None

    async def visible_tickets(self, query: TicketQuery) -> list[TicketRow]:
        rows = await self._fetch(list_sql(query), list_params(query))
        return [_ticket_row(row, bool(row[9])) for row in rows]

    async def visible_ticket(
        self, account_id: str, reach: Reach, pipelines: list[str] | None, ticket_id: str
    ) -> TicketRow | None:
        params = {
            "account_id": account_id,
            "ticket_id": ticket_id,
            "contact_id": reach.contact_id,
            "company_id": reach.company_id,
        }
        rows = await self._fetch(_ONE_SQL, params)
        if not rows:
            return None
        found = rows[0]
        own, via_company = bool(found[9]), bool(found[10])
        if not own and not (via_company and reach.company_id is not None):
            return None
        row = _ticket_row(found, own)
        if pipelines is not None and row.pipeline not in pipelines:
            return None
        return row

    async def public_messages(self, account_id: str, ticket_id: str) -> list[MessageRow]:
        rows = await self._fetch(
            "SELECT message_id, author_type, author_name, body, created_at FROM messages "
            "WHERE account_id = %s AND ticket_id = %s AND public "
            "ORDER BY created_at, message_id",
            (account_id, ticket_id),
        )
        return [MessageRow(*row) for row in rows]

    async def ticket_state(self, account_id: str, ticket_id: str) -> dict[str, Any] | None:
        rows = await self._fetch(
            f"SELECT {', '.join(_STATE_COLUMNS)} FROM tickets "
            "WHERE account_id = %s AND ticket_id = %s AND NOT deleted",
            (account_id, ticket_id),
        )
        if not rows:
            return None
        return dict(zip(_STATE_COLUMNS, rows[0], strict=True))
