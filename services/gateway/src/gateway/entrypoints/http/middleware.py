"""Pure ASGI middlewares around every request.

`EdgeMiddleware` (outermost): correlation id in and out, security headers, one JSON access-log
line, Prometheus metrics by route template, and a last-resort 500 in the error shape.
`BodyGuard`: bodies larger than the limit → 413 (checked on `Content-Length` and while
streaming), non-JSON bodies on `/api/` paths → 415. It buffers the (bounded) body and replays it.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ...observability import Metrics
from .errors import error_payload

log = structlog.get_logger("gateway.http")

CORRELATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def pick_correlation_id(headers: Headers) -> str:
    """The caller's `X-Correlation-Id` (or `X-Request-Id`) when well-formed, else a new one."""
    for name in ("x-correlation-id", "x-request-id"):
        value = headers.get(name)
        if value and CORRELATION_ID.match(value):
            return value
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "<unmatched>"


async def send_error(
    send: Send, status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> None:
    body = error_payload(code, message, details)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation_id = pick_correlation_id(Headers(scope=scope))
        state = scope.setdefault("state", {})
        state["correlation_id"] = correlation_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(correlation_id=correlation_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                headers["X-Correlation-Id"] = correlation_id
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            log.exception("unhandled_error", path=scope.get("path"))
            if not response_started:
                await send_error(send_wrapper, 500, "internal", "internal error")
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            method = scope.get("method", "")
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            log.info(
                "http_request",
                method=method,
                path=scope.get("path"),
                route=route,
                status=status,
                duration_ms=round(elapsed * 1000, 2),
                account_id=state.get("account_id"),
            )


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class BodyGuard:
    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        limit = self.limit_for(path)
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                await send_error(send, 400, "bad_request", "invalid Content-Length")
                return
            if int(declared) > limit:
                await _too_large(send, limit)
                return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = bool(message.get("more_body", False))
            if len(body) > limit:
                await _too_large(send, limit)
                return
        if body and "/api/" in path and not _is_json(headers.get("content-type")):
            await send_error(
                send,
                415,
                "unsupported_media_type",
                "the request body must be application/json",
                {"content_type": headers.get("content-type")},
            )
            return
        await self.app(scope, _replay(bytes(body), receive), send)


async def _too_large(send: Send, limit: int) -> None:
    await send_error(
        send,
        413,
        "payload_too_large",
        f"the request body exceeds {limit} bytes",
        {"max_bytes": limit},
    )


def _replay(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
