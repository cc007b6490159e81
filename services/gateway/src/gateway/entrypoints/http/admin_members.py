"""Admin API: a portal's members — explicit invitations, the member list, revocation.

Business rules (portal-config decides): the contact must be known in the account's CRM data
(404 otherwise); inviting an active member → 409; inviting an invited one sends a new email.
Revoking ends every session of the member at once; an unknown member → 404. A portal of
another account → 404.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from portal_contracts.base import Frozen, Identifier
from portal_contracts.member_rpc import InviteMember, ListMembers, MemberView, RevokeMember
from pydantic import BaseModel

from .admin_portals import PortalId
from .auth import CurrentAccount
from .customer_session import forget_sessions
from .deps import Backend
from .errors import ApiError, documented

router = APIRouter(
    prefix="/api/v1/portals", tags=["admin: members"], responses=documented(401, 404, 503)
)


_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


class Invitation(Frozen):
    contact_id: Identifier


class MemberList(BaseModel):
    items: list[MemberView]


@router.post("/{portal_id}/invitations", status_code=202, responses=documented(409, 413, 415, 422))
async def invite(
    portal_id: PortalId, body: Invitation, account: CurrentAccount, backend: Backend
) -> JSONResponse:
    """The contact receives a registration email (also on a system domain)."""
    request = InviteMember(account_id=account.id, portal_id=portal_id, contact_id=body.contact_id)
    result = await backend(request)
    return JSONResponse(result if isinstance(result, dict) else {}, status_code=202)


@router.get("/{portal_id}/members", response_model=MemberList)
async def list_members(
    portal_id: PortalId, account: CurrentAccount, backend: Backend
) -> JSONResponse:
    return JSONResponse(await backend(ListMembers(account_id=account.id, portal_id=portal_id)))


@router.delete("/{portal_id}/members/{contact_id}", status_code=204)
async def revoke(
    request: Request,
    portal_id: PortalId,
    contact_id: str,
    account: CurrentAccount,
    backend: Backend,
) -> Response:
    """The member's sessions end at once."""
    if not _valid_id(contact_id):
        raise ApiError(404, "not_found", "no such member")
    await backend(RevokeMember(account_id=account.id, portal_id=portal_id, contact_id=contact_id))
    forget_sessions(request, portal_id, contact_id)
    return Response(status_code=204)


def _valid_id(value: str) -> bool:
    return bool(_ID.match(value))
