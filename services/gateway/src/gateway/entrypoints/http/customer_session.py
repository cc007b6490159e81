"""Customer side: which portal a request is for, who is calling, and the session cookie.

Rules:
- The portal is `Host` (lower-cased, port included, as the browser sends it) + the first
  path segment (the slug), resolved by portal-config `portal.resolve`; unknown, inactive or
  malformed → 404 `not_found`, indistinguishable.
- The session cookie is `HttpOnly`, `SameSite=Lax`, `Path=/<slug>/` (a browser does not send
  one portal's session to another slug) and `Secure` unless the request is plain http to
  localhost (or `force_secure_cookies`). The session itself is portal-scoped server-side:
  `session.resolve` refuses a session of another portal.
- State-changing calls made with the session carry `X-CSRF-Token` equal to the session's
  token (constant-time comparison), else 403 `forbidden`.
- The client address is the peer, or, only when the peer is a trusted proxy, the last
  address in `X-Forwarded-For` that is not itself a trusted proxy.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Path, Request, Response
from portal_contracts.config_rpc import SERVICE as PORTAL_CONFIG
from portal_contracts.config_rpc import ResolvedPortal, ResolvePortal
from portal_contracts.member_rpc import ResolveSession
from portal_contracts.portal import PortalView
from portal_contracts.ticket_view_rpc import SERVICE as TICKET_VIEW
from pydantic import ValidationError

from ...adapters.rpc import BadReply, RpcFailure
from ...application.customer_portals import CustomerPortal, PortalCache
from ...application.session_cache import SessionCache
from ...settings import Settings
from .deps import Backend, PortalConfig, TicketView, app_rpc_client, request_correlation_id
from .errors import ApiError

CSRF_HEADER = "X-CSRF-Token"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$")


def no_portal() -> ApiError:
    return ApiError(404, "not_found", "no such portal")


def unauthenticated() -> ApiError:
    return ApiError(401, "unauthorized", "please log in")


def settings_of(request: Request) -> Settings:
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    return settings


def request_host(request: Request) -> str:
    return request.headers.get("host", "").strip().lower()


async def _resolve(backend: PortalConfig, host: str, slug: str) -> CustomerPortal | None:
    try:
        query = ResolvePortal(host=host, slug=slug)
    except ValidationError:
        return None
    try:
        result = await backend(query)
    except RpcFailure as exc:
        if exc.error.code in ("not_found", "validation_error"):
            return None
        raise
    try:
        resolved = ResolvedPortal.model_validate(result)
    except ValidationError as exc:
        raise BadReply(PORTAL_CONFIG, "portal.resolve") from exc
    view = PortalView.model_validate(resolved.model_dump(exclude={"account_id"}))
    return CustomerPortal(resolved.account_id, view)


async def customer_portal(
    request: Request, backend: Backend, slug: Annotated[str, Path()]
) -> CustomerPortal:
    if not _SLUG.match(slug):
        raise no_portal()
    cache: PortalCache = request.app.state.portal_cache
    host = request_host(request)

    async def resolver(h: str, s: str) -> CustomerPortal | None:
        return await _resolve(backend, h, s)

    portal = await cache.resolve(host, slug, resolver)
    if portal is None or portal.view.status != "active":
        raise no_portal()
    request.state.account_id = portal.account_id
    return portal


CurrentPortal = Annotated[CustomerPortal, Depends(customer_portal)]


async def client_address(request: Request) -> str | None:
    peer = request.client.host if request.client else None
    trusted = set(settings_of(request).trusted_proxies)
    if peer is None or peer not in trusted:
        return peer
    forwarded = [
        part.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for part in header.split(",")
        if part.strip()
    ]
    for address in reversed(forwarded):
        if address not in trusted:
            return address[:64]
    return peer


async def user_agent(request: Request) -> str | None:
    value = request.headers.get("user-agent")
    return value[:500] if value else None


ClientAddress = Annotated[str | None, Depends(client_address)]
UserAgent = Annotated[str | None, Depends(user_agent)]


def _scheme(request: Request) -> str:
    peer = request.client.host if request.client else None
    if peer is not None and peer in settings_of(request).trusted_proxies:
        proto = request.headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
        if proto in ("http", "https"):
            return proto
    return request.url.scheme


def cookie_secure(request: Request) -> bool:
    if settings_of(request).force_secure_cookies:
        return True
    host = request_host(request)
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return not (_scheme(request) == "http" and hostname in LOCAL_HOSTS)


def cookie_path(portal: CustomerPortal) -> str:
    return f"/{portal.view.slug}/"


def set_session_cookie(
    request: Request, response: Response, portal: CustomerPortal, issued: dict[str, Any]
) -> None:
    expires = datetime.fromisoformat(str(issued["absolute_expires_at"]))
    max_age = max(0, int((expires - datetime.now(UTC)).total_seconds()))
    response.set_cookie(
        settings_of(request).session_cookie_name,
        str(issued["session_id"]),
        max_age=max_age,
        path=cookie_path(portal),
        secure=cookie_secure(request),
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(request: Request, response: Response, portal: CustomerPortal) -> None:
    response.delete_cookie(
        settings_of(request).session_cookie_name,
        path=cookie_path(portal),
        secure=cookie_secure(request),
        httponly=True,
        samesite="lax",
    )


@dataclass(frozen=True)
class Session:
    session_id: str
    contact_id: str
    csrf_token: str


def session_cookie(request: Request) -> str | None:
    value = request.cookies.get(settings_of(request).session_cookie_name)
    return value if value and len(value) <= 500 else None


def session_cache(request: Request) -> SessionCache[Session]:
    cache: SessionCache[Session] = request.app.state.session_cache
    return cache


def forget_sessions(request: Request, portal_id: str, contact_id: str) -> None:
    """After this gateway ended a member's sessions: not one more request on a remembered
    one, even before portal-config's broadcast comes back."""
    session_cache(request).forget(portal_id, contact_id)


async def find_session(
    request: Request, portal: CustomerPortal, backend: PortalConfig
) -> Session | None:
    """The live session of the cookie: confirmed by portal-config, or remembered from its
    confirmation a moment ago (`SessionCache`)."""
    session_id = session_cookie(request)
    if session_id is None:
        return None
    cache = session_cache(request)
    remembered = cache.get(portal.id, session_id)
    if remembered is not None:
        return remembered
    generation = cache.generation
    query = ResolveSession(account_id=portal.account_id, portal_id=portal.id, session_id=session_id)
    try:
        result = await backend(query)
    except RpcFailure as exc:
        if exc.error.code in ("unauthorized", "not_found", "validation_error"):
            return None
        raise
    if not isinstance(result, dict) or not isinstance(result.get("contact_id"), str):
        raise BadReply(PORTAL_CONFIG, "session.resolve")
    session = Session(session_id, result["contact_id"], str(result.get("csrf_token", "")))
    cache.put(portal.id, session_id, session.contact_id, session, generation)
    return session


def check_csrf(request: Request, session: Session) -> None:
    given = request.headers.get(CSRF_HEADER, "")
    if not session.csrf_token or not hmac.compare_digest(
        given.encode(), session.csrf_token.encode()
    ):
        raise ApiError(
            403, "forbidden", f"missing or wrong {CSRF_HEADER} header", {"header": CSRF_HEADER}
        )


async def current_session(request: Request, portal: CurrentPortal, backend: Backend) -> Session:
    session = await find_session(request, portal, backend)
    if session is None:
        raise unauthenticated()
    return session


async def csrf_session(
    request: Request, session: Annotated[Session, Depends(current_session)]
) -> Session:
    """A live session whose state-changing request carries its CSRF token."""
    check_csrf(request, session)
    return session


CurrentSession = Annotated[Session, Depends(current_session)]
WritingSession = Annotated[Session, Depends(csrf_session)]


@dataclass(frozen=True)
class Caller:
    """A signed-in member's read: the portal, the live session, ticket-view."""

    portal: CustomerPortal
    session: Session
    tickets: TicketView


async def signed_in_caller(request: Request, slug: Annotated[str, Path()]) -> Caller:
    """`CurrentPortal` + `CurrentSession` + `TicketViewBackend` as one dependency, same checks
    in the same order (portal 404, then session 401). FastAPI walks every node of a
    dependency tree on every request, cached ones too, so the hot reads take this one."""
    rpc, correlation_id = app_rpc_client(request), request_correlation_id(request)
    backend = PortalConfig(rpc, correlation_id)
    portal = await customer_portal(request, backend, slug)
    session = await current_session(request, portal, backend)
    return Caller(portal, session, TicketView(rpc, correlation_id, TICKET_VIEW))


SignedIn = Annotated[Caller, Depends(signed_in_caller)]
