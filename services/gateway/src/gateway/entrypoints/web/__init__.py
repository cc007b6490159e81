"""Customer web pages: server-rendered, translated, on the customer API's use cases.

`install(app)` adds the page routes and serves the pages' own stylesheet and script under
`/static/portal/` (no other host is ever referenced).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from . import account_pages, ticket_pages
from .rendering import STATIC, STATIC_PREFIX


def install(app: FastAPI) -> None:
    app.include_router(ticket_pages.router)
    app.include_router(account_pages.router)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC), name="portal-static")
