"""Send-time look-ups over NATS request/reply: portal-config and ticket-view."""

from __future__ import annotations

from typing import Any

import nats.errors
from nats.aio.client import Client as NatsClient
from portal_contracts import CORRELATION_HEADER, Namespace
from portal_contracts.base import dump
from portal_contracts.config_rpc import GetPortal
from portal_contracts.member import IssuedMemberToken, IssueMemberToken
from portal_contracts.rpc import RpcError, RpcReply
from portal_contracts.ticket_view_rpc import GetContact
from pydantic import BaseModel, ValidationError

from notifier.application.ports import (
    ContactInfo,
    DeliveryCancelled,
    OneTimeToken,
    PermanentFailure,
    PortalInfo,
    TransientFailure,
)
from notifier.domain.delivery import Delivery


class RpcRefused(Exception):
    def __init__(self, error: RpcError):
        super().__init__(f"{error.code}: {error.message}")
        self.error = error


class NatsDirectory:
    """Always asks; caches nothing, so a changed email or title is used on the next send."""

    def __init__(self, nc: NatsClient, namespace: Namespace, timeout: float):
        self.nc = nc
        self.ns = namespace
        self.timeout = timeout

    async def _call(
        self, service: str, op: str, body: BaseModel, correlation_id: str | None
    ) -> Any:
        payload = dump(body)
        headers = {CORRELATION_HEADER: correlation_id} if correlation_id else None
        try:
            msg = await self.nc.request(
                self.ns.rpc(service, op), payload, timeout=self.timeout, headers=headers
            )
        except (nats.errors.Error, TimeoutError) as exc:
            raise TransientFailure(f"{service} {op}: {type(exc).__name__}") from exc
        try:
            reply = RpcReply.model_validate_json(msg.data)
        except ValidationError as exc:
            raise TransientFailure(f"{service} {op}: malformed reply") from exc
        if not reply.ok:
            error = reply.error or RpcError.of("internal", "no error given")
            raise RpcRefused(error)
        return reply.result

    async def portal(
        self, account_id: str, portal_id: str, correlation_id: str | None
    ) -> PortalInfo:
        request = GetPortal(account_id=account_id, portal_id=portal_id)
        try:
            result = await self._call("portal-config", "portal.get", request, correlation_id)
        except RpcRefused as exc:
            if exc.error.code == "not_found":
                raise PermanentFailure("portal not found") from exc
            raise TransientFailure(str(exc)) from exc
        if not isinstance(result, dict) or not result.get("url"):
            raise PermanentFailure("portal has no URL (no domain set)")
        return PortalInfo(
            title=str(result.get("title") or ""),
            url=str(result["url"]),
            language=result.get("language"),
        )

    async def contact(
        self, account_id: str, contact_id: str, correlation_id: str | None
    ) -> ContactInfo:
        """A contact unknown to ticket-view may be on its way (read model lag): retried."""
        request = GetContact(account_id=account_id, contact_id=contact_id)
        try:
            result = await self._call("ticket-view", "contacts.get", request, correlation_id)
        except RpcRefused as exc:
            raise TransientFailure(f"contact look-up refused: {exc}") from exc
        email = result.get("email") if isinstance(result, dict) else None
        if not email or "@" not in str(email) or any(c in str(email) for c in "\r\n<>,"):
            raise PermanentFailure("contact has no usable email")
        name = result.get("name")
        return ContactInfo(email=str(email), name=str(name) if name else None)

    async def issue_token(self, delivery: Delivery, purpose: str) -> OneTimeToken:
        request = IssueMemberToken(
            account_id=delivery.account_id,
            portal_id=delivery.portal_id,
            contact_id=delivery.contact_id,
            purpose=purpose,
            event_id=delivery.event_id,
        )
        try:
            result = await self._call(
                "portal-config", "member.issue_token", request, delivery.correlation_id
            )
        except RpcRefused as exc:
            if exc.error.code == "conflict":
                raise DeliveryCancelled(f"token refused: {exc.error.message}") from exc
            if exc.error.code == "not_found":
                raise PermanentFailure(f"token refused: {exc}") from exc
            raise TransientFailure(str(exc)) from exc
        try:
            issued = IssuedMemberToken.model_validate(result)
        except ValidationError as exc:
            raise TransientFailure("malformed token reply") from exc
        return OneTimeToken(token=issued.token, expires_at=issued.expires_at)
