"""What every customer page shares: its portal, the caller's session, the consent notice
and the page context handed to the templates.

Rules:
- The portal is resolved exactly as the customer API resolves it (`Host` + slug, active
  only); anything else is a plain "not found" page, the same for every reason.
- The consent notice, when the portal enables it, is shown on every page until the visitor
  answers it; the answer is remembered for a year in a cookie scoped to the portal's path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from portal_contracts.ticket_view_rpc import SERVICE as TICKET_VIEW

from ...application.customer_portals import CustomerPortal
from ..http.customer_session import (
    Session,
    cookie_path,
    cookie_secure,
    customer_portal,
    find_session,
)
from ..http.deps import PortalConfig, TicketView, app_rpc_client, request_correlation_id
from ..http.errors import ApiError
from .messages import MESSAGES
from .rendering import render
from .state import PageState

CONSENT_COOKIE = "portal_consent"
CONSENT_CHOICES = ("accepted", "declined")
CONSENT_MAX_AGE = 365 * 24 * 3600


class PageNotFound(Exception):
    """Rendered as the plain 404 page."""


def backends(request: Request) -> tuple[PortalConfig, TicketView]:
    rpc = app_rpc_client(request)
    cid = request_correlation_id(request)
    return PortalConfig(rpc, cid), TicketView(rpc, cid, TICKET_VIEW)


async def load_portal(request: Request, slug: str) -> CustomerPortal:
    config, _ = backends(request)
    try:
        return await customer_portal(request, config, slug)
    except ApiError as exc:
        if exc.status == 404:
            raise PageNotFound(slug) from None
        raise


async def load_session(request: Request, portal: CustomerPortal) -> Session | None:
    config, _ = backends(request)
    return await find_session(request, portal, config)


def consent_pending(request: Request, portal: CustomerPortal) -> bool:
    notice = portal.view.consent_notice
    return bool(notice.enabled and notice.text) and (
        request.cookies.get(CONSENT_COOKIE) not in CONSENT_CHOICES
    )


def remember_consent(
    request: Request, response: Response, portal: CustomerPortal, choice: str
) -> None:
    response.set_cookie(
        CONSENT_COOKIE,
        choice,
        max_age=CONSENT_MAX_AGE,
        path=cookie_path(portal),
        secure=cookie_secure(request),
        httponly=True,
        samesite="lax",
    )


@dataclass
class Page:
    """One page being built: its portal, state, session and the caller's display name."""

    request: Request
    portal: CustomerPortal
    state: PageState
    session: Session | None = None
    me: dict[str, Any] | None = None

    @property
    def base(self) -> str:
        return cookie_path(self.portal)

    @property
    def csrf(self) -> str:
        """The session's token for a logged-in customer, else the double-submit token."""
        if self.session is not None and self.session.csrf_token:
            return self.session.csrf_token
        return self.state.pre_login_token

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        view = self.portal.view
        here = self.request.url.path
        if self.request.url.query:
            here += "?" + self.request.url.query
        base_context = {
            "portal": {
                "title": view.title,
                "slug": view.slug,
                "base": self.base,
                "allow_close": view.ticket_display.allow_close,
                "form_enabled": view.support_form.enabled,
                "open_registration": bool(view.access and view.access.mode == "open"),
            },
            "me": self.me,
            "logged_in": self.session is not None,
            "csrf": self.csrf,
            "consent_csrf": self.state.pre_login_token,
            "consent_text": view.consent_notice.text
            if consent_pending(self.request, self.portal)
            else None,
            "here": here,
            "flash": self.state.flash,
            "messages": MESSAGES,
        }
        response = render(template, base_context | context, view.language, status)
        self.state.finish(response)
        return response


def not_found_page() -> HTMLResponse:
    return render("not_found.html", {}, None, status=404)
