"""Customer pages of a logged-in member: ticket list, ticket, reply, close, new ticket.

Rules: the same use cases as the JSON API — reads are ticket-view's `tickets.list` and
`tickets.get` for the session's contact (a ticket the contact may not see does not exist);
writes go through `CustomerDesk` (reply, close, submit) and a new ticket must fit the
portal's support form (`domain.support_form.check_new_ticket`). Every write checks the
session's CSRF token. Without a live session a page sends the visitor to log in and back.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from portal_contracts.ticket_view_rpc import DEFAULT_LIMIT, ListTickets, SortKey, StatusFilter

from ...adapters.rpc import RpcFailure
from ...application.customer_tickets import CloseNotAllowed, CustomerDesk, NotVisible
from ...domain.support_form import FormClosed, FormRefused, check_new_ticket
from ..http.customer_session import cookie_path
from ..http.customer_tickets import TicketAccess, contact_of, customer_of, display_name
from .context import Page, backends, load_portal, load_session
from .messages import FIELD_PROBLEMS
from .routing import PageRoute
from .state import CSRF_FIELD, Flash, PageState, form_fields, redirect, same_token

router = APIRouter(route_class=PageRoute, include_in_schema=False)

STATUSES: tuple[StatusFilter, ...] = ("open", "closed", "all")
SORTS: tuple[SortKey, ...] = ("-updated_at", "updated_at", "-created_at", "created_at")


T = TypeVar("T")


def _pick(value: str | None, allowed: tuple[T, ...], default: T) -> T:
    return next((a for a in allowed if a == value), default)


_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


async def _member_page(request: Request, slug: str) -> Page | Response:
    """The page of a logged-in member, or the redirect to the login page."""
    portal = await load_portal(request, slug)
    page = Page(request, portal, PageState(request, portal))
    page.session = await load_session(request, portal)
    if page.session is None:
        target = request.url.path if request.method == "GET" else cookie_path(portal)
        login = f"{cookie_path(portal)}login?next={quote(target)}"
        return redirect(request, portal, login, Flash("login_needed"))
    _, tickets = backends(request)
    contact = await contact_of(tickets, portal, page.session.contact_id)
    page.me = {"name": display_name(contact), "email": contact.get("email")}
    return page


def _reader(page: Page) -> TicketAccess:
    assert page.session is not None
    _, tickets = backends(page.request)
    return TicketAccess(tickets, page.portal, page.session.contact_id)


def _desk(request: Request) -> CustomerDesk:
    desk = request.app.state.customer_desk
    assert isinstance(desk, CustomerDesk)
    return desk


def _csrf_ok(page: Page, fields: dict[str, str]) -> bool:
    assert page.session is not None
    return same_token(fields.get(CSRF_FIELD), page.session.csrf_token)


async def ticket_list(page: Page) -> Response:
    """Status tabs, search, sort and keyset pages (`next_cursor`) of the member's tickets."""
    assert page.session is not None
    if page.me is None:
        _, tickets = backends(page.request)
        contact = await contact_of(tickets, page.portal, page.session.contact_id)
        page.me = {"name": display_name(contact), "email": contact.get("email")}
    params = page.request.query_params
    status: StatusFilter = _pick(params.get("status"), STATUSES, "open")
    sort: SortKey = _pick(params.get("sort"), SORTS, "-updated_at")
    q = (params.get("q") or "").strip()[:200]
    cursor = (params.get("cursor") or "")[:1000] or None
    query = ListTickets.model_construct(
        account_id=page.portal.account_id,
        portal_id=page.portal.id,
        contact_id=page.session.contact_id,
        status=status,
        q=q or None,
        sort=sort,
        limit=DEFAULT_LIMIT,
        cursor=cursor,
    )
    _, tickets = backends(page.request)
    try:
        result: Any = await tickets(query)
    except RpcFailure as exc:
        if exc.error.code != "validation_error" or cursor is None:
            raise
        return redirect(page.request, page.portal, page.base + f"?status={status}&sort={sort}")
    return page.render(
        "tickets.html",
        tickets=result.get("items", []),
        next_cursor=result.get("next_cursor"),
        cursor=cursor,
        current_status=status,
        sort=sort,
        q=q,
    )


@router.get("/{slug}/tickets/new")
async def new_ticket_page(request: Request, slug: str) -> Response:
    page = await _member_page(request, slug)
    if not isinstance(page, Page):
        return page
    form = page.portal.view.support_form
    if not form.enabled:
        return redirect(request, page.portal, page.base, Flash("form_closed", "error"))
    return page.render("new_ticket.html", fields=[f.model_dump() for f in form.fields])


@router.post("/{slug}/tickets/new")
async def create_ticket(request: Request, slug: str) -> Response:
    page = await _member_page(request, slug)
    if not isinstance(page, Page):
        return page
    fields = await form_fields(request)
    back = f"{page.base}tickets/new"
    typed = {
        k: v for k, v in fields.items() if k in ("subject", "description") or k.startswith("field_")
    }
    if not _csrf_ok(page, fields):
        return redirect(request, page.portal, back, Flash("csrf", "error", typed))
    form = page.portal.view.support_form
    values = {spec.name: fields.get(f"field_{spec.name}") for spec in form.fields}
    try:
        draft = check_new_ticket(
            form, fields.get("subject", ""), fields.get("description", ""), values
        )
    except FormClosed:
        return redirect(request, page.portal, page.base, Flash("form_closed", "error"))
    except FormRefused as exc:
        errors: dict[str, str] = {}
        for problem in exc.problems:
            name = problem.field.replace("fields.", "field_", 1)
            errors.setdefault(name, FIELD_PROBLEMS.get(problem.type, "field_required"))
        return redirect(request, page.portal, back, Flash(None, "error", typed, errors))
    _, tickets = backends(request)
    assert page.session is not None
    customer = await customer_of(tickets, page.portal, page.session)
    ticket = await _desk(request).submit(
        page.portal.account_id, page.portal.view, customer, draft, _reader(page)
    )
    target = f"{page.base}tickets/{quote(str(ticket['id']))}"
    return redirect(request, page.portal, target, Flash("ticket_created"))


@router.get("/{slug}/tickets/{ticket_id}")
async def ticket_page(request: Request, slug: str, ticket_id: str) -> Response:
    page = await _member_page(request, slug)
    if not isinstance(page, Page):
        return page
    ticket = await _reader(page).get(ticket_id) if _ID.match(ticket_id) else None
    if ticket is None:
        return page.render("not_found.html", status=404)
    return page.render("ticket.html", ticket=ticket)


@router.post("/{slug}/tickets/{ticket_id}/reply")
async def reply(request: Request, slug: str, ticket_id: str) -> Response:
    page = await _member_page(request, slug)
    if not isinstance(page, Page):
        return page
    fields = await form_fields(request)
    back = f"{page.base}tickets/{quote(ticket_id)}"
    body = fields.get("body", "")
    if not _csrf_ok(page, fields):
        return redirect(request, page.portal, back, Flash("csrf", "error", {"body": body}))
    if not body.strip():
        return redirect(
            request, page.portal, back, Flash(None, "error", {}, {"body": "reply_required"})
        )
    if len(body) > 20_000:
        return redirect(
            request,
            page.portal,
            back,
            Flash(None, "error", {"body": body}, {"body": "field_too_long"}),
        )
    if not _ID.match(ticket_id):
        return page.render("not_found.html", status=404)
    _, tickets = backends(request)
    assert page.session is not None
    customer = await customer_of(tickets, page.portal, page.session)
    try:
        await _desk(request).reply(
            page.portal.account_id, customer, ticket_id, body.strip(), _reader(page)
        )
    except NotVisible:
        return page.render("not_found.html", status=404)
    return redirect(request, page.portal, back + "#reply-title", Flash("reply_sent"))


@router.post("/{slug}/tickets/{ticket_id}/close")
async def close(request: Request, slug: str, ticket_id: str) -> Response:
    page = await _member_page(request, slug)
    if not isinstance(page, Page):
        return page
    fields = await form_fields(request)
    back = f"{page.base}tickets/{quote(ticket_id)}"
    if not _csrf_ok(page, fields):
        return redirect(request, page.portal, back, Flash("csrf", "error"))
    if not _ID.match(ticket_id):
        return page.render("not_found.html", status=404)
    try:
        await _desk(request).close(
            page.portal.account_id, page.portal.view, ticket_id, _reader(page)
        )
    except CloseNotAllowed:
        return redirect(request, page.portal, back, Flash("close_not_allowed", "error"))
    except NotVisible:
        return page.render("not_found.html", status=404)
    return redirect(request, page.portal, back, Flash("ticket_closed"))
