"""Request-scoped dependencies: the correlation id and the portal-config and ticket-view
backends."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from portal_contracts.config_rpc import SERVICE as PORTAL_CONFIG
from portal_contracts.ticket_view_rpc import SERVICE as TICKET_VIEW
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
class _Service:
    """Sends one contract request (its `op` names the subject) and returns the result."""

    rpc: RpcClient
    correlation_id: str
    service: str = PORTAL_CONFIG

    async def __call__(self, request: BaseModel) -> Any:
        op = getattr(request, "op")  # noqa: B009
        return await self.rpc.call(self.service, op, request, self.correlation_id)

    async def json(self, request: BaseModel) -> bytes:
        """The result as JSON bytes, to answer with unchanged."""
        op = getattr(request, "op")  # noqa: B009
        return await self.rpc.call_json(self.service, op, request, self.correlation_id)


class PortalConfig(_Service):
    """`config_rpc` requests to portal-config."""


class TicketView(_Service):
    """`ticket_view_rpc` requests to ticket-view."""


async def portal_config(request: Request) -> PortalConfig:
    """Straight from the request, not from the `rpc_client` and `correlation_id`
    dependencies: each dependency costs every request that uses a backend."""
    return PortalConfig(app_rpc_client(request), request_correlation_id(request))


Backend = Annotated[PortalConfig, Depends(portal_config)]


async def ticket_view(request: Request) -> TicketView:
    return TicketView(app_rpc_client(request), request_correlation_id(request), TICKET_VIEW)


TicketViewBackend = Annotated[TicketView, Depends(ticket_view)]
