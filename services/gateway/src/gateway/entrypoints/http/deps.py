"""Request-scoped dependencies: the correlation id and the portal-config backend."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from portal_contracts.config_rpc import SERVICE as PORTAL_CONFIG
from pydantic import BaseModel

from ...adapters.rpc import RpcClient


def request_correlation_id(request: Request) -> str:
    value = getattr(request.state, "correlation_id", None)
    return value if isinstance(value, str) else uuid.uuid4().hex


def app_rpc_client(request: Request) -> RpcClient:
    client = request.app.state.rpc
    assert isinstance(client, RpcClient)
    return client


async def correlation_id(request: Request) -> str:
    """Dependencies are `async`: FastAPI would run plain functions in its thread pool."""
    return request_correlation_id(request)


async def rpc_client(request: Request) -> RpcClient:
    return app_rpc_client(request)


@dataclass(frozen=True)
class PortalConfig:
    """Sends one `config_rpc` request (its `op` names the subject) and returns the result."""

    rpc: RpcClient
    correlation_id: str

    async def __call__(self, request: BaseModel) -> Any:
        op = getattr(request, "op")  # noqa: B009
        return await self.rpc.call(PORTAL_CONFIG, op, request, self.correlation_id)


async def portal_config(
    rpc: Annotated[RpcClient, Depends(rpc_client)],
    cid: Annotated[str, Depends(correlation_id)],
) -> PortalConfig:
    return PortalConfig(rpc, cid)


Backend = Annotated[PortalConfig, Depends(portal_config)]
