"""Jinja2 rendering of the customer pages: autoescaped, translated, with strict headers.

Every page answers with a Content-Security-Policy that allows only this origin's own
stylesheet, script and images (no inline code, no other hosts), refuses framing, and is never
cached by the browser or a proxy (pages carry a customer's data and CSRF tokens).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from .i18n import CATALOGS, Formatter, babel_locale, catalog_for, translations

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
TEMPLATES = WEB_DIR / "templates"
STATIC = WEB_DIR / "static"
STATIC_PREFIX = "/static/portal"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


@cache
def _asset_version(name: str) -> str:
    path = STATIC / name
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.exists() else "0"


def static_url(name: str) -> str:
    """Versioned by content, so a new release is never served from a stale cache."""
    return f"{STATIC_PREFIX}/{name}?v={_asset_version(name)}"


@cache
def environment(catalog: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(catalog), newstyle=True)  # type: ignore[attr-defined]
    env.globals["static"] = static_url
    return env


def render(
    template: str,
    context: dict[str, Any],
    language: str | None,
    status: int = 200,
    now: datetime | None = None,
) -> HTMLResponse:
    catalog = catalog_for(language)
    env = environment(catalog)
    fmt = Formatter(babel_locale(language), now or datetime.now(UTC))
    html = env.get_template(template).render(
        **context, fmt=fmt, lang=language or "en", catalog=catalog
    )
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def gettext_for(language: str | None) -> Any:
    """`gettext` of the page's catalog, for texts composed outside templates."""
    return translations(catalog_for(language)).gettext


def known_catalogs() -> tuple[str, ...]:
    return CATALOGS
