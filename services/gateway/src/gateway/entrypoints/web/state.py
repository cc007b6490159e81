"""Browser-side state of the customer pages: form bodies, CSRF tokens and flash notices.

Rules:
- Forms before login (login, register, activate, password reset, consent) carry a
  double-submit token: a random value in an `HttpOnly`, `SameSite=Lax` cookie scoped to the
  portal's path, repeated in a hidden field; both must be equal (constant-time).
- Forms of a logged-in customer carry the session's own CSRF token (from `session.resolve`).
- Post/Redirect/Get: a POST answers 303; what the next page must show (a notice, the fields
  as typed — never a password — and the errors per field) travels in a short-lived flash
  cookie that the next page reads once and clears. It holds message keys, not text.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from ...application.customer_portals import CustomerPortal
from ..http.customer_session import cookie_path, cookie_secure

CSRF_COOKIE = "portal_csrf"
FLASH_COOKIE = "portal_flash"
CSRF_FIELD = "csrf_token"
FLASH_MAX_BYTES = 3500
SECRET_FIELDS = frozenset({"password", "password_confirm", CSRF_FIELD, "token"})


async def form_fields(request: Request) -> dict[str, str]:
    """An `application/x-www-form-urlencoded` body (its size is bounded by `BodyGuard`);
    the first value of each name."""
    body = (await request.body()).decode("utf-8", errors="replace")
    fields: dict[str, str] = {}
    for name, value in parse_qsl(body, keep_blank_values=True, max_num_fields=200):
        fields.setdefault(name, value)
    return fields


def csrf_cookie(request: Request) -> str | None:
    value = request.cookies.get(CSRF_COOKIE)
    return value if value and 20 <= len(value) <= 100 else None


def same_token(given: str | None, expected: str | None) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


@dataclass
class Flash:
    notice: str | None = None
    kind: str = "info"
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def encode(self) -> str:
        values = {k: v for k, v in self.values.items() if k not in SECRET_FIELDS}
        data = {"n": self.notice, "k": self.kind, "v": values, "e": self.errors}
        raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str | None) -> Flash | None:
        if not value or len(value) > 2 * FLASH_MAX_BYTES:
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            data = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        return cls(
            notice=data.get("n") if isinstance(data.get("n"), str) else None,
            kind="error" if data.get("k") == "error" else "info",
            values=_strings(data.get("v")),
            errors=_strings(data.get("e")),
        )


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str)}


def read_flash(request: Request) -> Flash:
    return Flash.decode(request.cookies.get(FLASH_COOKIE)) or Flash()


class PageState:
    """What one customer page needs from the browser, and what it sends back."""

    def __init__(self, request: Request, portal: CustomerPortal) -> None:
        self.request = request
        self.portal = portal
        self.flash = read_flash(request)
        self._had_flash = FLASH_COOKIE in request.cookies
        self._csrf = csrf_cookie(request)
        self._new_csrf = self._csrf is None
        if self._csrf is None:
            self._csrf = secrets.token_urlsafe(32)

    @property
    def pre_login_token(self) -> str:
        assert self._csrf is not None
        return self._csrf

    def finish(self, response: Response) -> Response:
        """Sets the CSRF cookie when new and drops a consumed flash."""
        path = cookie_path(self.portal)
        secure = cookie_secure(self.request)
        if self._new_csrf:
            response.set_cookie(
                CSRF_COOKIE,
                self.pre_login_token,
                path=path,
                secure=secure,
                httponly=True,
                samesite="lax",
            )
        if self._had_flash:
            response.delete_cookie(FLASH_COOKIE, path=path, secure=secure, httponly=True)
        return response


def pre_login_csrf_ok(request: Request, fields: dict[str, str]) -> bool:
    return same_token(fields.get(CSRF_FIELD), csrf_cookie(request))


def redirect(
    request: Request, portal: CustomerPortal, to: str, flash: Flash | None = None
) -> RedirectResponse:
    """303 See Other to `to` (a path of this portal), with the flash for the next page."""
    response = RedirectResponse(to, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    if flash is not None:
        encoded = _fitting(flash)
        response.set_cookie(
            FLASH_COOKIE,
            encoded,
            max_age=120,
            path=cookie_path(portal),
            secure=cookie_secure(request),
            httponly=True,
            samesite="lax",
        )
    return response


def _fitting(flash: Flash) -> str:
    """The flash as a cookie value; the longest typed values are dropped until it fits."""
    values = dict(flash.values)
    encoded = flash.encode()
    while len(encoded) > FLASH_MAX_BYTES and values:
        del values[max(values, key=lambda name: len(values[name]))]
        encoded = Flash(flash.notice, flash.kind, values, flash.errors).encode()
    return encoded


def local_path(portal: CustomerPortal, candidate: str | None) -> str:
    """A return address inside this portal, else the portal's home (no open redirects)."""
    base = cookie_path(portal)
    if (
        candidate
        and candidate.startswith(base)
        and "//" not in candidate
        and "\\" not in candidate
        and len(candidate) <= 500
    ):
        return candidate
    return base
