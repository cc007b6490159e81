"""Customer pages before the ticket list: log in, register, activate, reset, log out, consent.

Rules (the same as the JSON API's, by calling the same portal-config operations):
- Registration and password-reset requests show one notice whatever the email (known or
  not, eligible or not); only a rate limit or an outage is told apart.
- A failed login says "email or password is not correct", whatever the reason.
- The one-time token of an email link never stays in the address bar: the link's page moves
  it into a cookie scoped to that page's path and redirects to the same page without it;
  the form then posts the password, and the token is dropped once used.
- Every form is Post/Redirect/Get; what was typed (never a password) comes back with the
  errors after the redirect.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from portal_contracts.member_rpc import (
    Activate,
    ConfirmPasswordReset,
    Login,
    Logout,
    Register,
    RequestPasswordReset,
)
from pydantic import ValidationError

from ...adapters.rpc import RpcFailure
from ...application.customer_portals import CustomerPortal
from ..http.customer_auth import quietly
from ..http.customer_schemas import EmailBody
from ..http.customer_session import (
    clear_session_cookie,
    client_address,
    cookie_path,
    cookie_secure,
    forget_sessions,
    set_session_cookie,
    user_agent,
)
from .context import CONSENT_CHOICES, Page, backends, load_portal, load_session, remember_consent
from .messages import PASSWORD_REASONS
from .routing import PageRoute
from .state import (
    CSRF_FIELD,
    Flash,
    PageState,
    form_fields,
    local_path,
    pre_login_csrf_ok,
    redirect,
    same_token,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

LINK_COOKIES = {"activate": "portal_activation", "reset": "portal_reset"}
LINK_PATHS = {"activate": "activate", "reset": "password-reset/confirm"}
LINK_MAX_AGE = 3600
_PASS_THROUGH = frozenset({"rate_limited", "unavailable", "internal"})


async def _page(request: Request, slug: str) -> Page:
    portal = await load_portal(request, slug)
    page = Page(request, portal, PageState(request, portal))
    page.session = await load_session(request, portal)
    return page


def _email_problem(email: str) -> str | None:
    if not email.strip():
        return "email_required"
    try:
        EmailBody(email=email)
    except ValidationError:
        return "email_invalid"
    return None if "@" in email else "email_invalid"


def _refusal_notice(exc: RpcFailure) -> str:
    if exc.error.code == "rate_limited":
        return "rate_limited"
    if exc.error.code in _PASS_THROUGH or exc.error.status >= 500:
        raise exc
    return "login_failed"


# --- log in / log out ------------------------------------------------------------------------


@router.get("/{slug}/")
async def home(request: Request, slug: str) -> Response:
    """The ticket list for a member, else the login page."""
    from .ticket_pages import ticket_list

    page = await _page(request, slug)
    if page.session is None:
        return redirect(request, page.portal, f"{page.base}login")
    return await ticket_list(page)


@router.get("/{slug}/login")
async def login_page(request: Request, slug: str, next: str | None = None) -> Response:
    page = await _page(request, slug)
    if page.session is not None:
        return redirect(request, page.portal, local_path(page.portal, next))
    return page.render("login.html", next=local_path(page.portal, next))


@router.post("/{slug}/login")
async def login(request: Request, slug: str) -> Response:
    portal = await load_portal(request, slug)
    fields = await form_fields(request)
    email = fields.get("email", "").strip()
    back = f"{cookie_path(portal)}login"
    target = local_path(portal, fields.get("next"))
    if target != cookie_path(portal):
        back += "?next=" + quote(target)
    if not pre_login_csrf_ok(request, fields):
        return redirect(request, portal, back, Flash("csrf", "error", {"email": email}))
    errors: dict[str, str] = {}
    if problem := _email_problem(email):
        errors["email"] = problem
    if not fields.get("password"):
        errors["password"] = "password_required"
    if errors:
        return redirect(request, portal, back, Flash(None, "error", {"email": email}, errors))
    config, _ = backends(request)
    try:
        issued = await config(
            Login(
                account_id=portal.account_id,
                portal_id=portal.id,
                email=email,
                password=fields["password"],
                client_address=await client_address(request),
                user_agent=await user_agent(request),
            )
        )
    except RpcFailure as exc:
        notice = _refusal_notice(exc)
        return redirect(request, portal, back, Flash(notice, "error", {"email": email}))
    response = redirect(request, portal, target)
    set_session_cookie(request, response, portal, issued)
    return response


@router.post("/{slug}/logout")
async def logout(request: Request, slug: str) -> Response:
    portal = await load_portal(request, slug)
    fields = await form_fields(request)
    session = await load_session(request, portal)
    config, _ = backends(request)
    if session is not None:
        if not same_token(fields.get(CSRF_FIELD), session.csrf_token):
            return redirect(request, portal, cookie_path(portal), Flash("csrf", "error"))
        await config(
            Logout(account_id=portal.account_id, portal_id=portal.id, session_id=session.session_id)
        )
        forget_sessions(request, portal.id, session.contact_id)
    response = redirect(request, portal, f"{cookie_path(portal)}login", Flash("logged_out"))
    clear_session_cookie(request, response, portal)
    return response


# --- register and password-reset requests ----------------------------------------------------


@router.get("/{slug}/register")
async def register_page(request: Request, slug: str) -> Response:
    page = await _page(request, slug)
    return page.render("register.html")


@router.get("/{slug}/password-reset")
async def reset_page(request: Request, slug: str) -> Response:
    page = await _page(request, slug)
    return page.render("reset_request.html")


async def _email_request(request: Request, slug: str, kind: str) -> Response:
    portal = await load_portal(request, slug)
    fields = await form_fields(request)
    email = fields.get("email", "").strip()
    back = cookie_path(portal) + ("register" if kind == "register" else "password-reset")
    if not pre_login_csrf_ok(request, fields):
        return redirect(request, portal, back, Flash("csrf", "error", {"email": email}))
    if problem := _email_problem(email):
        return redirect(
            request, portal, back, Flash(None, "error", {"email": email}, {"email": problem})
        )
    config, _ = backends(request)
    address = await client_address(request)
    scope = {"account_id": portal.account_id, "portal_id": portal.id}
    command = (
        Register(**scope, email=email, client_address=address)
        if kind == "register"
        else RequestPasswordReset(**scope, email=email, client_address=address)
    )
    try:
        await quietly(config, command)
    except RpcFailure as exc:
        if exc.error.code != "rate_limited":
            raise
        return redirect(request, portal, back, Flash("rate_limited", "error", {"email": email}))
    notice = "register_sent" if kind == "register" else "reset_sent"
    return redirect(request, portal, back, Flash(notice))


@router.post("/{slug}/register")
async def register(request: Request, slug: str) -> Response:
    return await _email_request(request, slug, "register")


@router.post("/{slug}/password-reset")
async def request_reset(request: Request, slug: str) -> Response:
    return await _email_request(request, slug, "reset")


# --- email links: activate and choose a new password ------------------------------------------


def _link_path(portal: CustomerPortal, kind: str) -> str:
    return cookie_path(portal) + LINK_PATHS[kind]


async def _link_page(request: Request, slug: str, kind: str, token: str | None) -> Response:
    page = await _page(request, slug)
    path = _link_path(page.portal, kind)
    if token:
        response = redirect(request, page.portal, path)
        response.set_cookie(
            LINK_COOKIES[kind],
            token[:500],
            max_age=LINK_MAX_AGE,
            path=path,
            secure=cookie_secure(request),
            httponly=True,
            samesite="lax",
        )
        return page.state.finish(response)
    has_token = bool(request.cookies.get(LINK_COOKIES[kind]))
    purpose = "activate" if kind == "activate" else "reset"
    return page.render("set_password.html", purpose=purpose, has_token=has_token, action=path)


async def _set_password(request: Request, slug: str, kind: str) -> Response:
    portal = await load_portal(request, slug)
    fields = await form_fields(request)
    path = _link_path(portal, kind)
    token = request.cookies.get(LINK_COOKIES[kind], "")[:500]
    if not pre_login_csrf_ok(request, fields):
        return redirect(request, portal, path, Flash("csrf", "error"))
    password = fields.get("password", "")
    if not password:
        return redirect(
            request, portal, path, Flash(None, "error", {}, {"password": "password_required"})
        )
    if password != fields.get("password_confirm", ""):
        return redirect(
            request,
            portal,
            path,
            Flash(None, "error", {}, {"password_confirm": "password_mismatch"}),
        )
    config, _ = backends(request)
    scope = {
        "account_id": portal.account_id,
        "portal_id": portal.id,
        "token": token,
        "password": password,
        "client_address": await client_address(request),
        "user_agent": await user_agent(request),
    }
    command = Activate(**scope) if kind == "activate" else ConfirmPasswordReset(**scope)
    try:
        issued = await config(command)
    except RpcFailure as exc:
        code = exc.error.code
        if code == "validation_error":
            reason = str(exc.error.details.get("reason", ""))
            problem = PASSWORD_REASONS.get(reason, "password_invalid")
            return redirect(request, portal, path, Flash(None, "error", {}, {"password": problem}))
        if code == "rate_limited":
            return redirect(request, portal, path, Flash("rate_limited", "error"))
        if code in _PASS_THROUGH or exc.error.status >= 500:
            raise
        response = redirect(request, portal, path)
        response.delete_cookie(LINK_COOKIES[kind], path=path, secure=cookie_secure(request))
        return response
    if isinstance(issued, dict):
        forget_sessions(request, portal.id, str(issued.get("contact_id")))
    notice = "activated" if kind == "activate" else "password_changed"
    response = redirect(request, portal, cookie_path(portal), Flash(notice))
    response.delete_cookie(LINK_COOKIES[kind], path=path, secure=cookie_secure(request))
    set_session_cookie(request, response, portal, issued)
    return response


@router.get("/{slug}/activate")
async def activate_page(request: Request, slug: str, token: str | None = None) -> Response:
    return await _link_page(request, slug, "activate", token)


@router.post("/{slug}/activate")
async def activate(request: Request, slug: str) -> Response:
    return await _set_password(request, slug, "activate")


@router.get("/{slug}/password-reset/confirm")
async def reset_confirm_page(request: Request, slug: str, token: str | None = None) -> Response:
    return await _link_page(request, slug, "reset", token)


@router.post("/{slug}/password-reset/confirm")
async def reset_confirm(request: Request, slug: str) -> Response:
    return await _set_password(request, slug, "reset")


# --- consent notice --------------------------------------------------------------------------


@router.post("/{slug}/consent")
async def consent(request: Request, slug: str) -> Response:
    """Remembers the visitor's answer to the portal's consent notice, then goes back."""
    portal = await load_portal(request, slug)
    fields = await form_fields(request)
    target = local_path(portal, fields.get("next"))
    choice = fields.get("choice", "")
    if not pre_login_csrf_ok(request, fields) or choice not in CONSENT_CHOICES:
        return redirect(request, portal, target, Flash("csrf", "error"))
    response = redirect(request, portal, target)
    remember_consent(request, response, portal, choice)
    return response
