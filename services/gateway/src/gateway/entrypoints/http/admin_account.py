"""Admin API: the key's account, its connected domains and its inboxes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from portal_contracts.config_rpc import (
    AddDomain,
    CreateInbox,
    GetAccount,
    ListDomains,
    ListInboxes,
)

from .auth import CurrentAccount
from .deps import Backend
from .errors import documented
from .schemas import AccountView, DomainList, DomainView, InboxList, InboxView, NewDomain, NewInbox

router = APIRouter(prefix="/api/v1", tags=["admin"], responses=documented(401, 503))
WRITE_ERRORS = documented(400, 409, 413, 415, 422)


@router.get("/account", response_model=AccountView)
async def get_account(account: CurrentAccount, backend: Backend) -> JSONResponse:
    return JSONResponse(await backend(GetAccount(account_id=account.id)))


@router.post("/domains", status_code=201, response_model=DomainView, responses=WRITE_ERRORS)
async def add_domain(body: NewDomain, account: CurrentAccount, backend: Backend) -> JSONResponse:
    """Connects a domain to the account; a domain it already has → 409."""
    request = AddDomain(account_id=account.id, **body.model_dump())
    return JSONResponse(await backend(request), status_code=201)


@router.get("/domains", response_model=DomainList)
async def list_domains(account: CurrentAccount, backend: Backend) -> JSONResponse:
    return JSONResponse(await backend(ListDomains(account_id=account.id)))


@router.post("/inboxes", status_code=201, response_model=InboxView, responses=WRITE_ERRORS)
async def create_inbox(body: NewInbox, account: CurrentAccount, backend: Backend) -> JSONResponse:
    request = CreateInbox(account_id=account.id, **body.model_dump())
    return JSONResponse(await backend(request), status_code=201)


@router.get("/inboxes", response_model=InboxList)
async def list_inboxes(account: CurrentAccount, backend: Backend) -> JSONResponse:
    return JSONResponse(await backend(ListInboxes(account_id=account.id)))
