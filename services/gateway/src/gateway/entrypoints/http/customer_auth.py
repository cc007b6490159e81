"""Customer API: registration, activation, login, logout and password reset.

Rules (API.md; OWASP ASVS 2 for authentication):
- `register` and `password-reset` answer 202 with one fixed body whatever the email: known or
  not, eligible or not. Only a rate limit (429) or an outage (503) is ever told apart.
- `login` failures all answer 401 with one fixed body (unknown email, wrong password, an
  invited or revoked member); too many tries → 429 with `Retry-After`.
- `activate` and `password-reset/confirm` need the one-time token of the email: bad, used or
  expired → 400; a password breaking the rules → 422. Both log the member in (cookie + CSRF
  token); a reset ends the member's other sessions.
- `logout` ends the session server-side and clears the cookie; without a live session it
  only clears the cookie.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from portal_contracts.member_rpc import (
    Activate,
    ConfirmPasswordReset,
    Login,
    Logout,
    Register,
    RequestPasswordReset,
)

from ...adapters.rpc import RpcFailure
from .customer_schemas import Accepted, Credentials, CsrfToken, EmailBody, TokenAndPassword
from .customer_session import (
    ClientAddress,
    CurrentPortal,
    UserAgent,
    check_csrf,
    clear_session_cookie,
    find_session,
    forget_sessions,
    set_session_cookie,
)
from .deps import Backend
from .errors import ApiError, documented

log = structlog.get_logger("gateway.customer")

router = APIRouter(prefix="/{slug}/api", tags=["customer"], responses=documented(404, 503))

REGISTER_ACCEPTED = {
    "status": "accepted",
    "message": "If this address may use the portal, an email with a link is on its way.",
}
RESET_ACCEPTED = {
    "status": "accepted",
    "message": "If this address belongs to a member, an email with a link is on its way.",
}
_PASS_THROUGH = frozenset({"rate_limited", "unavailable", "internal"})


async def quietly(backend: Backend, request: Any) -> None:
    """Anything but a rate limit or an outage is kept to ourselves (enumeration)."""
    try:
        await backend(request)
    except RpcFailure as exc:
        if exc.error.code in _PASS_THROUGH or exc.error.status >= 500:
            raise
        log.info("customer_request_refused_quietly", op=request.op, code=exc.error.code)


def _signed_in(
    request: Request, portal: CurrentPortal, issued: Any, *, others_ended: bool = False
) -> JSONResponse:
    """`others_ended`: a password was set, every other session of the member is gone."""
    if not isinstance(issued, dict) or "session_id" not in issued or "csrf_token" not in issued:
        raise ApiError(502, "bad_gateway", "a backend service answered incorrectly")
    if others_ended:
        forget_sessions(request, portal.id, str(issued.get("contact_id")))
    response = JSONResponse({"csrf_token": issued["csrf_token"]})
    set_session_cookie(request, response, portal, issued)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/register", status_code=202, response_model=Accepted, responses=documented(422, 429))
async def register(
    body: EmailBody, portal: CurrentPortal, backend: Backend, address: ClientAddress
) -> JSONResponse:
    """Open mode self-registration: an eligible contact receives an activation link."""
    await quietly(
        backend,
        Register(
            account_id=portal.account_id,
            portal_id=portal.id,
            email=body.email,
            client_address=address,
        ),
    )
    return JSONResponse(REGISTER_ACCEPTED, status_code=202)


@router.post("/activate", response_model=CsrfToken, responses=documented(400, 422, 429))
async def activate(
    request: Request,
    body: TokenAndPassword,
    portal: CurrentPortal,
    backend: Backend,
    address: ClientAddress,
    agent: UserAgent,
) -> JSONResponse:
    issued = await backend(
        Activate(
            account_id=portal.account_id,
            portal_id=portal.id,
            token=body.token,
            password=body.password,
            client_address=address,
            user_agent=agent,
        )
    )
    return _signed_in(request, portal, issued, others_ended=True)


@router.post("/login", response_model=CsrfToken, responses=documented(401, 422, 429))
async def login(
    request: Request,
    body: Credentials,
    portal: CurrentPortal,
    backend: Backend,
    address: ClientAddress,
    agent: UserAgent,
) -> JSONResponse:
    try:
        issued = await backend(
            Login(
                account_id=portal.account_id,
                portal_id=portal.id,
                email=body.email,
                password=body.password,
                client_address=address,
                user_agent=agent,
            )
        )
    except RpcFailure as exc:
        if exc.error.code in _PASS_THROUGH or exc.error.status >= 500:
            raise
        raise ApiError(401, "unauthorized", "wrong email or password") from None
    return _signed_in(request, portal, issued)


@router.post("/logout", status_code=204, responses=documented(403))
async def logout(request: Request, portal: CurrentPortal, backend: Backend) -> Response:
    session = await find_session(request, portal, backend)
    if session is not None:
        check_csrf(request, session)
        await backend(
            Logout(account_id=portal.account_id, portal_id=portal.id, session_id=session.session_id)
        )
        forget_sessions(request, portal.id, session.contact_id)
    response = Response(status_code=204)
    clear_session_cookie(request, response, portal)
    return response


@router.post(
    "/password-reset", status_code=202, response_model=Accepted, responses=documented(422, 429)
)
async def request_password_reset(
    body: EmailBody, portal: CurrentPortal, backend: Backend, address: ClientAddress
) -> JSONResponse:
    await quietly(
        backend,
        RequestPasswordReset(
            account_id=portal.account_id,
            portal_id=portal.id,
            email=body.email,
            client_address=address,
        ),
    )
    return JSONResponse(RESET_ACCEPTED, status_code=202)


@router.post(
    "/password-reset/confirm", response_model=CsrfToken, responses=documented(400, 422, 429)
)
async def confirm_password_reset(
    request: Request,
    body: TokenAndPassword,
    portal: CurrentPortal,
    backend: Backend,
    address: ClientAddress,
    agent: UserAgent,
) -> JSONResponse:
    issued = await backend(
        ConfirmPasswordReset(
            account_id=portal.account_id,
            portal_id=portal.id,
            token=body.token,
            password=body.password,
            client_address=address,
            user_agent=agent,
        )
    )
    return _signed_in(request, portal, issued, others_ended=True)
