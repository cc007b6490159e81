"""Request/reply between the gateway and the services.

Every reply is an `RpcReply`: either `ok` with a `result`, or an `RpcError` whose `status`
is the HTTP status the gateway answers with and whose `code` is API.md's snake_case code.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .base import Frozen, Lenient

ERROR_STATUS = {
    "bad_request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "setup_incomplete": 409,
    "precondition_failed": 412,
    "payload_too_large": 413,
    "validation_error": 422,
    "rate_limited": 429,
    "unavailable": 503,
}


class RpcError(Frozen):
    code: str
    message: str
    status: int = 400
    details: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(cls, code: str, message: str, **details: Any) -> RpcError:
        return cls(code=code, message=message, status=ERROR_STATUS.get(code, 400), details=details)


class RpcReply(Lenient):
    ok: bool
    result: Any = None
    error: RpcError | None = None

    @classmethod
    def success(cls, result: Any = None) -> RpcReply:
        return cls(ok=True, result=result)

    @classmethod
    def failure(cls, error: RpcError) -> RpcReply:
        return cls(ok=False, error=error)
