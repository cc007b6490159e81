"""Customer API: the member's profile and tickets.

Rules:
- Every call needs a live session of this portal (401 otherwise); writes also need the
  session's CSRF token (403).
- Reads are ticket-view's: `tickets.list` / `tickets.get` for the session's contact; a ticket
  the contact may not see is 404, like one that does not exist.
- Writes become CRM events (see `application.customer_tickets`); a new ticket must fit the
  portal's support form (422 naming every problem; a disabled form → 403).
- Text is stored and returned as text: responses are JSON only, nothing is rendered.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from portal_contracts.ticket_view_rpc import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    GetContact,
    GetTicket,
    GetTicketState,
    ListTickets,
    SortKey,
    StatusFilter,
    TicketDetail,
    TicketPage,
)

from ...adapters.crm_stream import StreamUnavailable
from ...adapters.rpc import RpcFailure
from ...application.customer_portals import CustomerPortal
from ...application.customer_tickets import CloseNotAllowed, CustomerDesk, NotVisible
from ...domain.customer_events import Customer
from ...domain.support_form import FormClosed, FormRefused, check_new_ticket
from .customer_schemas import Me, NewMessage, NewTicket
from .customer_session import CurrentPortal, Session, SignedIn, WritingSession
from .deps import TicketView, TicketViewBackend
from .errors import ApiError, documented

router = APIRouter(prefix="/{slug}/api", tags=["customer"], responses=documented(401, 404, 503))
_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


def _no_ticket() -> ApiError:
    return ApiError(404, "not_found", "no such ticket")


async def _ticket_id(ticket_id: str) -> str:
    if not _ID.match(ticket_id):
        raise _no_ticket()
    return ticket_id


TicketId = Annotated[str, Depends(_ticket_id)]


@contextlib.contextmanager
def _publishing() -> Iterator[None]:
    """The CRM stream not acknowledging → 503; the customer may simply try again."""
    try:
        yield
    except StreamUnavailable:
        raise ApiError(
            503,
            "unavailable",
            "your change could not be stored just now; please try again",
            headers={"Retry-After": "1"},
        ) from None


class TicketAccess:
    """The session contact's view of one ticket (None when not visible)."""

    def __init__(self, tickets: TicketView, portal: CustomerPortal, contact_id: str) -> None:
        self._tickets = tickets
        self._portal = portal
        self._contact_id = contact_id

    async def _ask(self, op: type[GetTicket] | type[GetTicketState], ticket_id: str) -> Any:
        """ticket-view's answer for this member's ticket; None when they may not see it."""
        query = op(
            account_id=self._portal.account_id,
            portal_id=self._portal.id,
            contact_id=self._contact_id,
            ticket_id=ticket_id,
        )
        try:
            return await self._tickets(query)
        except RpcFailure as exc:
            if exc.error.code == "not_found":
                return None
            raise

    async def get(self, ticket_id: str) -> dict[str, Any] | None:
        result = await self._ask(GetTicket, ticket_id)
        return result if isinstance(result, dict) else None

    async def state(self, ticket_id: str) -> dict[str, Any] | None:
        result = await self._ask(GetTicketState, ticket_id)
        ticket = result.get("ticket") if isinstance(result, dict) else None
        return ticket if isinstance(ticket, dict) else None


def _desk(request: Request) -> CustomerDesk:
    desk = request.app.state.customer_desk
    assert isinstance(desk, CustomerDesk)
    return desk


async def contact_of(
    tickets: TicketView, portal: CustomerPortal, contact_id: str
) -> dict[str, Any]:
    try:
        result = await tickets(GetContact(account_id=portal.account_id, contact_id=contact_id))
    except RpcFailure as exc:
        if exc.error.code == "not_found":
            return {"contact_id": contact_id}
        raise
    return result if isinstance(result, dict) else {"contact_id": contact_id}


def display_name(contact: dict[str, Any]) -> str | None:
    name = contact.get("name")
    if isinstance(name, str) and name.strip():
        return name
    parts = [contact.get("firstname"), contact.get("lastname")]
    joined = " ".join(p for p in parts if isinstance(p, str) and p.strip())
    return joined or None


async def customer_of(tickets: TicketView, portal: CustomerPortal, session: Session) -> Customer:
    contact = await contact_of(tickets, portal, session.contact_id)
    return Customer(session.contact_id, display_name(contact))


@router.get("/me", response_model=Me)
async def me(caller: SignedIn) -> JSONResponse:
    """The member's current CRM identity (its email as the CRM has it now)."""
    session = caller.session
    contact = await contact_of(caller.tickets, caller.portal, session.contact_id)
    company = contact.get("company")
    body: dict[str, Any] = {
        "contact_id": session.contact_id,
        "email": contact.get("email"),
        "name": display_name(contact),
    }
    if isinstance(company, dict):
        body["company"] = {"id": company.get("id"), "name": company.get("name")}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.get("/tickets", response_model=TicketPage, responses=documented(422))
async def list_tickets(
    caller: SignedIn,
    status: StatusFilter = "all",
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: SortKey = "-updated_at",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response:
    """`{items: [Ticket], next_cursor}`; pass `next_cursor` back (same sort) for more. The
    page is ticket-view's JSON, passed on as it comes."""
    query = ListTickets.model_construct(
        account_id=caller.portal.account_id,
        portal_id=caller.portal.id,
        contact_id=caller.session.contact_id,
        status=status,
        q=q or None,
        sort=sort,
        limit=limit,
        cursor=cursor or None,
    )
    return Response(
        await caller.tickets.json(query),
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


@router.get("/tickets/{ticket_id}", response_model=TicketDetail)
async def get_ticket(ticket_id: TicketId, caller: SignedIn) -> JSONResponse:
    """The ticket with its public messages, oldest first."""
    access = TicketAccess(caller.tickets, caller.portal, caller.session.contact_id)
    found = await access.get(ticket_id)
    if found is None:
        raise _no_ticket()
    return JSONResponse(found, headers={"Cache-Control": "no-store"})


@router.post(
    "/tickets", status_code=201, response_model=TicketDetail, responses=documented(403, 422)
)
async def create_ticket(
    request: Request,
    body: NewTicket,
    portal: CurrentPortal,
    session: WritingSession,
    tickets: TicketViewBackend,
) -> JSONResponse:
    """Goes to the portal's default inbox; the contact sees it in the very next list."""
    try:
        draft = check_new_ticket(
            portal.view.support_form, body.subject, body.description, body.fields
        )
    except FormClosed as exc:
        raise ApiError(403, "forbidden", str(exc)) from None
    except FormRefused as exc:
        errors = [{"field": p.field, "message": p.message, "type": p.type} for p in exc.problems]
        raise ApiError(
            422, "validation_error", "the ticket is invalid", {"errors": errors}
        ) from None
    customer = await customer_of(tickets, portal, session)
    reader = TicketAccess(tickets, portal, session.contact_id)
    with _publishing():
        ticket = await _desk(request).submit(
            portal.account_id, portal.view, customer, draft, reader
        )
    return JSONResponse(ticket, status_code=201)


@router.post("/tickets/{ticket_id}/messages", status_code=201, responses=documented(403, 422))
async def reply(
    request: Request,
    ticket_id: TicketId,
    body: NewMessage,
    portal: CurrentPortal,
    session: WritingSession,
    tickets: TicketViewBackend,
) -> JSONResponse:
    """A public message by the member on a ticket it can see."""
    text = body.body.strip()
    if not text:
        raise ApiError(
            422,
            "validation_error",
            "the message is empty",
            {"errors": [{"field": "body", "message": "must not be blank", "type": "missing"}]},
        )
    customer = await customer_of(tickets, portal, session)
    reader = TicketAccess(tickets, portal, session.contact_id)
    try:
        with _publishing():
            message = await _desk(request).reply(
                portal.account_id, customer, ticket_id, text, reader
            )
    except NotVisible:
        raise _no_ticket() from None
    return JSONResponse(message, status_code=201)


@router.post("/tickets/{ticket_id}/close", response_model=TicketDetail, responses=documented(403))
async def close(
    request: Request,
    ticket_id: TicketId,
    portal: CurrentPortal,
    session: WritingSession,
    tickets: TicketViewBackend,
) -> JSONResponse:
    """Only when the portal allows customers to close tickets (`ticket_display.allow_close`)."""
    reader = TicketAccess(tickets, portal, session.contact_id)
    try:
        with _publishing():
            ticket = await _desk(request).close(portal.account_id, portal.view, ticket_id, reader)
    except CloseNotAllowed:
        raise ApiError(
            403, "forbidden", "this portal does not let customers close tickets"
        ) from None
    except NotVisible:
        raise _no_ticket() from None
    return JSONResponse(ticket)
