"""One error shape for every non-2xx answer: `{"error": {"code", "message", "details"}}`.

Decisions: malformed JSON is 400 `bad_request` (the body is not JSON at all); a JSON body that
breaks the schema is 422 `validation_error` with `details.errors: [{field, message, type}]`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from portal_contracts.rpc import RpcError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from ...adapters.rpc import BadReply, RpcFailure, ServiceUnavailable

log = structlog.get_logger("gateway.http")

STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal",
    502: "bad_gateway",
    503: "unavailable",
}


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = {}


class ErrorResponse(BaseModel):
    """What every 4xx/5xx answer carries."""

    error: ErrorBody


class ApiError(Exception):
    """Raised by routes and dependencies; rendered by `error_response`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers


def error_payload(code: str, message: str, details: dict[str, Any] | None = None) -> bytes:
    body = ErrorResponse(error=ErrorBody(code=code, message=message, details=details or {}))
    return body.model_dump_json().encode()


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    content = {"error": {"code": code, "message": message, "details": details or {}}}
    return JSONResponse(content, status_code=status, headers=headers)


def from_rpc_error(error: RpcError) -> ApiError:
    status = error.status if 400 <= error.status <= 599 else 500
    return ApiError(status, error.code, error.message, error.details)


def validation_details(errors: list[Any]) -> dict[str, Any]:
    items = []
    for err in errors:
        loc = [str(part) for part in err.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "header"):
            loc = loc[1:] if loc[0] == "body" else loc
        items.append(
            {"field": ".".join(loc), "message": str(err.get("msg", "")), "type": err.get("type")}
        )
    return {"errors": items}


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(err.get("type") == "json_invalid" for err in errors):
        if refused := await _refused_before_body(request):
            return refused
        reason = next(str(e.get("ctx", {}).get("error", "")) for e in errors)
        return error_response(
            400, "bad_request", "the request body is not valid JSON", {"reason": reason}
        )
    return error_response(
        422, "validation_error", "the request is invalid", validation_details(errors)
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and (refused := await _refused_before_body(request)):
        return refused
    code = STATUS_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 404 and message == "Not Found":
        message = "no such resource"
    return error_response(exc.status_code, code, message, headers=exc.headers)


def retry_after(details: Mapping[str, Any]) -> dict[str, str] | None:
    """`Retry-After` (whole seconds, at least 1) for a refusal that names its wait."""
    seconds = details.get("retry_after_seconds")
    if isinstance(seconds, int | float) and not isinstance(seconds, bool):
        return {"Retry-After": str(max(1, math.ceil(seconds)))}
    return None


async def _rpc_failure(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RpcFailure)
    api = from_rpc_error(exc.error)
    headers = retry_after(api.details) or ({"Retry-After": "1"} if api.status == 429 else None)
    return error_response(api.status, api.code, api.message, api.details, headers)


async def _unavailable(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceUnavailable)
    return error_response(
        503,
        "unavailable",
        "a backend service is not answering; try again shortly",
        {"service": exc.service},
        headers={"Retry-After": "1"},
    )


async def _bad_reply(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BadReply)
    return error_response(
        502, "bad_gateway", "a backend service answered incorrectly", {"service": exc.service}
    )


async def _refused_before_body(request: Request) -> JSONResponse | None:
    """An unauthenticated caller learns nothing about its body: 401 comes first."""
    check = getattr(request.app.state, "authenticate_first", None)
    if check is None:
        return None
    try:
        await check(request)
    except ApiError as exc:
        return await _api_error(request, exc)
    except RpcFailure as exc:
        return await _rpc_failure(request, exc)
    except ServiceUnavailable as exc:
        return await _unavailable(request, exc)
    except BadReply as exc:
        return await _bad_reply(request, exc)
    return None


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RpcFailure, _rpc_failure)
    app.add_exception_handler(ServiceUnavailable, _unavailable)
    app.add_exception_handler(BadReply, _bad_reply)


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries: these statuses answer with `ErrorResponse`."""
    return {s: {"model": ErrorResponse, "description": STATUS_CODES[s]} for s in statuses}
