"""Admin API: preview — the ticket list one contact would see in a portal, with reasons.

Business rules:
- The portal must exist in the key's account (portal-config `portal.get`), else 404 — also
  for a portal id of another account. A confirmed (account, portal) pair is remembered
  (`KnownPortals`): portals are never deleted nor moved.
- The list itself comes from ticket-view `tickets.preview`: each item carries `reason`
  (`own_association`, or `primary_company` with the company and, in `company_for_some`,
  the filter group that matched).
- Bad query input (limit outside 1..100, unknown sort or status, a garbage or foreign
  cursor, no contact_id) → 422 `validation_error`.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from portal_contracts.config_rpc import GetPortal
from portal_contracts.ticket_view_rpc import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    PreviewPage,
    PreviewTickets,
    SortKey,
    StatusFilter,
)
from portal_contracts.ticket_view_rpc import SERVICE as TICKET_VIEW

from ...application.known_portals import KnownPortals
from .admin_portals import PortalId
from .auth import CurrentAccount
from .deps import PortalConfig, TicketView, app_rpc_client, request_correlation_id
from .errors import documented

router = APIRouter(
    prefix="/api/v1/portals", tags=["admin: portals"], responses=documented(401, 404, 422, 503)
)

ContactId = Annotated[
    str,
    Query(pattern=r"^[A-Za-z0-9_\-]{1,64}$", description="The CRM contact to preview for"),
]


@router.get("/{portal_id}/preview", response_model=PreviewPage)
async def preview(
    http: Request,
    portal_id: PortalId,
    contact_id: ContactId,
    account: CurrentAccount,
    status: StatusFilter = "all",
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: SortKey = "-updated_at",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response:
    """`{items: [Ticket + reason], next_cursor}`; pass `next_cursor` back (same sort) for
    the next page."""
    rpc, correlation_id = app_rpc_client(http), request_correlation_id(http)
    portals, tickets = (
        PortalConfig(rpc, correlation_id),
        TicketView(rpc, correlation_id, TICKET_VIEW),
    )
    request = PreviewTickets.model_construct(
        account_id=account.id,
        portal_id=portal_id,
        contact_id=contact_id,
        status=status,
        q=q or None,
        sort=sort,
        limit=limit,
        cursor=cursor or None,
    )
    known: KnownPortals = http.app.state.known_portals
    if (account.id, portal_id) in known:
        return _json(await tickets.json(request))
    outcomes: tuple[Any, ...] = await asyncio.gather(
        portals(GetPortal(account_id=account.id, portal_id=portal_id)),
        tickets.json(request),
        return_exceptions=True,
    )
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    known.add(account.id, portal_id)
    return _json(outcomes[1])


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")
