"""Business refusals. Each carries the RPC error code it maps to (see `portal_contracts.rpc`)."""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    """A command the business rules refuse; stored state stays as it was."""

    code = "bad_request"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(Refusal):
    code = "not_found"


class Conflict(Refusal):
    code = "conflict"


class InvalidInput(Refusal):
    code = "validation_error"


class SetupIncomplete(Refusal):
    code = "setup_incomplete"


class PreconditionFailed(Refusal):
    code = "precondition_failed"


class Unauthorized(Refusal):
    code = "unauthorized"


class BadRequest(Refusal):
    code = "bad_request"


class RateLimited(Refusal):
    code = "rate_limited"
