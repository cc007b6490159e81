"""Admin authentication: `Authorization: Bearer <api key>` → the key's account.

Missing or unknown key → 401 with `WWW-Authenticate: Bearer`. Successful resolutions are
cached briefly in-process (`KeyCache`); refusals are never cached.
"""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from portal_contracts.config_rpc import SERVICE as PORTAL_CONFIG
from portal_contracts.config_rpc import ResolveApiKey
from pydantic import ValidationError

from ...adapters.rpc import BadReply, RpcFailure
from ...application.key_cache import Account, KeyCache
from .deps import PortalConfig, app_rpc_client, request_correlation_id
from .errors import ApiError

bearer = HTTPBearer(auto_error=False, description="The account's admin API key")

_REFUSALS = frozenset({"unauthorized", "validation_error", "not_found"})


def _unauthorized(message: str, invalid: bool) -> ApiError:
    challenge = 'Bearer error="invalid_token"' if invalid else "Bearer"
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": challenge})


async def current_account(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Account:
    """Its backend comes straight from the request: every dependency node costs every admin
    request (FastAPI walks the whole tree, cached nodes too)."""
    api_key = credentials.credentials if credentials is not None else None
    backend = PortalConfig(app_rpc_client(request), request_correlation_id(request))
    return await authenticate(request, api_key, backend)


async def authenticate(request: Request, api_key: str | None, backend: PortalConfig) -> Account:
    if not api_key:
        raise _unauthorized("an admin API key is required (Authorization: Bearer <key>)", False)
    cache: KeyCache = request.app.state.key_cache
    account = cache.get(api_key)
    if account is None:
        try:
            result = await backend(ResolveApiKey(api_key=api_key))
        except ValidationError:
            raise _unauthorized("the API key is not valid", True) from None
        except RpcFailure as exc:
            if exc.error.code in _REFUSALS:
                raise _unauthorized("the API key is not valid", True) from None
            raise
        if not isinstance(result, dict) or not isinstance(result.get("id"), str):
            raise BadReply(PORTAL_CONFIG, "auth.resolve_key")
        account = Account(id=result["id"], name=str(result.get("name", "")))
        cache.put(api_key, account)
    request.state.account_id = account.id
    structlog.contextvars.bind_contextvars(account_id=account.id)
    return account


async def authenticate_first(request: Request) -> None:
    """FastAPI decodes JSON before it resolves dependencies; admin paths still answer 401
    before revealing anything about a body."""
    if not request.url.path.startswith("/api/v1/"):
        return
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    backend = PortalConfig(app_rpc_client(request), request_correlation_id(request))
    await authenticate(request, key.strip() if scheme.lower() == "bearer" else None, backend)


CurrentAccount = Annotated[Account, Depends(current_account)]
