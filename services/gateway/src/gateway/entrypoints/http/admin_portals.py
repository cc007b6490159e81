"""Admin API: portals — the set-up wizard, settings, activation and history.

Every write takes `If-Match: "<version>"` (stale → 412) and answers the portal with its new
`ETag`. An id that is malformed, unknown or of another account → 404.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from portal_contracts.config_rpc import (
    ActivatePortal,
    ConfigurePortalAccess,
    ConfigurePortalTickets,
    CreatePortal,
    DeactivatePortal,
    GetPortal,
    ListPortals,
    PortalHistory,
    SetPortalDomain,
    UpdatePortalSettings,
)
from portal_contracts.portal import Access

from .auth import CurrentAccount
from .deps import Backend
from .errors import ApiError, documented
from .preconditions import etag, expected_version
from .schemas import (
    History,
    NewPortal,
    PortalAddress,
    PortalList,
    PortalView,
    SettingsPatch,
    TicketSettings,
)

router = APIRouter(
    prefix="/api/v1/portals", tags=["admin: portals"], responses=documented(401, 503)
)
READ_ERRORS = documented(404)
WRITE_ERRORS = documented(400, 404, 409, 412, 413, 415, 422)
_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")

ExpectedVersion = Annotated[int | None, Depends(expected_version)]


async def _portal_id(portal_id: str) -> str:
    if not _ID.match(portal_id):
        raise ApiError(404, "not_found", "no such portal", {"portal_id": portal_id[:64]})
    return portal_id


PortalId = Annotated[str, Depends(_portal_id)]


def _portal(result: Any, status_code: int = 200) -> JSONResponse:
    headers = {}
    if isinstance(result, dict) and isinstance(result.get("version"), int):
        headers["ETag"] = etag(result["version"])
    return JSONResponse(result, status_code=status_code, headers=headers)


@router.post("", status_code=201, response_model=PortalView, responses=WRITE_ERRORS)
async def create_portal(body: NewPortal, account: CurrentAccount, backend: Backend) -> JSONResponse:
    """A new portal starts as a `draft` with every set-up step missing."""
    return _portal(await backend(CreatePortal(account_id=account.id, title=body.title)), 201)


@router.get("", response_model=PortalList)
async def list_portals(account: CurrentAccount, backend: Backend) -> JSONResponse:
    return JSONResponse(await backend(ListPortals(account_id=account.id)))


@router.get("/{portal_id}", response_model=PortalView, responses=READ_ERRORS)
async def get_portal(
    portal_id: PortalId, account: CurrentAccount, backend: Backend
) -> JSONResponse:
    return _portal(await backend(GetPortal(account_id=account.id, portal_id=portal_id)))


@router.get("/{portal_id}/history", response_model=History, responses=READ_ERRORS)
async def portal_history(
    portal_id: PortalId, account: CurrentAccount, backend: Backend
) -> JSONResponse:
    """The portal's configuration event stream, oldest first."""
    return JSONResponse(await backend(PortalHistory(account_id=account.id, portal_id=portal_id)))


@router.put("/{portal_id}/domain", response_model=PortalView, responses=WRITE_ERRORS)
async def set_domain(
    portal_id: PortalId,
    body: PortalAddress,
    version: ExpectedVersion,
    account: CurrentAccount,
    backend: Backend,
) -> JSONResponse:
    """The domain must be connected to the account; (domain, slug) is unique → else 409."""
    request = SetPortalDomain(
        account_id=account.id, portal_id=portal_id, expected_version=version, **body.model_dump()
    )
    return _portal(await backend(request))


@router.put("/{portal_id}/tickets", response_model=PortalView, responses=WRITE_ERRORS)
async def configure_tickets(
    portal_id: PortalId,
    body: TicketSettings,
    version: ExpectedVersion,
    account: CurrentAccount,
    backend: Backend,
) -> JSONResponse:
    """The default inbox must exist in the account."""
    request = ConfigurePortalTickets(
        account_id=account.id,
        portal_id=portal_id,
        expected_version=version,
        default_inbox_id=body.default_inbox_id,
        visibility=body.visibility,
    )
    return _portal(await backend(request))


@router.put("/{portal_id}/access", response_model=PortalView, responses=WRITE_ERRORS)
async def configure_access(
    portal_id: PortalId,
    body: Access,
    version: ExpectedVersion,
    account: CurrentAccount,
    backend: Backend,
) -> JSONResponse:
    request = ConfigurePortalAccess(
        account_id=account.id, portal_id=portal_id, expected_version=version, access=body
    )
    return _portal(await backend(request))


@router.patch("/{portal_id}", response_model=PortalView, responses=WRITE_ERRORS)
async def update_settings(
    portal_id: PortalId,
    body: SettingsPatch,
    version: ExpectedVersion,
    account: CurrentAccount,
    backend: Backend,
) -> JSONResponse:
    """Absent fields stay as they are; each given field replaces its whole value."""
    request = UpdatePortalSettings(
        account_id=account.id,
        portal_id=portal_id,
        expected_version=version,
        title=body.title,
        ticket_display=body.ticket_display,
        consent_notice=body.consent_notice,
        support_form=body.support_form,
    )
    return _portal(await backend(request))


@router.post("/{portal_id}/activate", response_model=PortalView, responses=WRITE_ERRORS)
async def activate(
    portal_id: PortalId, version: ExpectedVersion, account: CurrentAccount, backend: Backend
) -> JSONResponse:
    """An incomplete set-up → 409 `setup_incomplete` with `details.missing`."""
    request = ActivatePortal(account_id=account.id, portal_id=portal_id, expected_version=version)
    return _portal(await backend(request))


@router.post("/{portal_id}/deactivate", response_model=PortalView, responses=WRITE_ERRORS)
async def deactivate(
    portal_id: PortalId, version: ExpectedVersion, account: CurrentAccount, backend: Backend
) -> JSONResponse:
    request = DeactivatePortal(account_id=account.id, portal_id=portal_id, expected_version=version)
    return _portal(await backend(request))
