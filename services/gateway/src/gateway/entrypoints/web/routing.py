"""The route class of the customer pages: failures become pages, never JSON.

An unknown portal or ticket is the plain 404 page; a backend that does not answer (or
answers nonsense) is a 503 page asking to try again — the same outcomes the JSON API gives
as error bodies.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from fastapi import Request, Response
from fastapi.routing import APIRoute

from ...adapters.crm_stream import StreamUnavailable
from ...adapters.rpc import BadReply, RpcFailure, ServiceUnavailable
from .context import PageNotFound, not_found_page
from .rendering import render

log = structlog.get_logger("gateway.web")

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class PageRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except PageNotFound:
                return not_found_page()
            except (ServiceUnavailable, BadReply, StreamUnavailable) as exc:
                log.warning(
                    "page_backend_unavailable",
                    error=type(exc).__name__,
                    service=getattr(exc, "service", None),
                    op=getattr(exc, "op", None),
                )
                return _unavailable()
            except RpcFailure as exc:
                if exc.error.status == 404:
                    return not_found_page()
                if exc.error.status < 500 and exc.error.code != "rate_limited":
                    raise
                log.warning("page_backend_refused", code=exc.error.code)
                return _unavailable()

        return page


def _unavailable() -> Response:
    response = render("unavailable.html", {}, None, status=503)
    response.headers["Retry-After"] = "2"
    return response
