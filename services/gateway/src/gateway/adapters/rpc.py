"""Request/reply client over NATS: one call = one contract request, one `RpcReply`.

A missing responder, a timeout or a lost connection means the backend is unavailable
(`ServiceUnavailable`); a reply that is not an `RpcReply` is a broken backend (`BadReply`);
a refusal by the backend is an `RpcFailure` carrying the backend's `RpcError`.
"""

from __future__ import annotations

import json
import time
from typing import Any

import nats.errors
import structlog
from faststream.exceptions import IncorrectState
from faststream.nats import NatsBroker
from portal_contracts import CORRELATION_HEADER, Namespace
from portal_contracts.rpc import RpcError, RpcReply
from pydantic import BaseModel, ValidationError

from ..observability import Metrics

log = structlog.get_logger("gateway.rpc")

_UNAVAILABLE = (
    nats.errors.NoRespondersError,
    nats.errors.TimeoutError,
    nats.errors.Error,
    IncorrectState,
)


class ServiceUnavailable(Exception):
    def __init__(self, service: str, op: str, reason: str) -> None:
        super().__init__(f"{service} did not answer {op}: {reason}")
        self.service = service
        self.op = op
        self.reason = reason


class BadReply(Exception):
    def __init__(self, service: str, op: str) -> None:
        super().__init__(f"{service} answered {op} with something that is not an RpcReply")
        self.service = service
        self.op = op


class RpcFailure(Exception):
    def __init__(self, error: RpcError) -> None:
        super().__init__(f"{error.code}: {error.message}")
        self.error = error


class RpcClient:
    """Requests go straight through the broker's nats-py connection (no per-call FastStream
    message building); the request body is the contract model's JSON."""

    def __init__(
        self, broker: NatsBroker, namespace: Namespace, timeout: float, metrics: Metrics
    ) -> None:
        self._broker = broker
        self._namespace = namespace
        self._timeout = timeout
        self._metrics = metrics

    async def call(
        self,
        service: str,
        op: str,
        request: BaseModel | dict[str, Any],
        correlation_id: str,
        timeout: float | None = None,
    ) -> Any:
        """The reply's `result`; raises `RpcFailure`, `ServiceUnavailable` or `BadReply`."""
        raw = await self._request(service, op, request, correlation_id, timeout)
        return self._result(service, op, raw)

    async def call_json(
        self,
        service: str,
        op: str,
        request: BaseModel | dict[str, Any],
        correlation_id: str,
        timeout: float | None = None,
    ) -> bytes:
        """The reply's `result` as JSON bytes, for answers passed on unchanged. A reply in
        the canonical compact form (`{"ok":true,"result":...,"error":null}`) is sliced, not
        parsed and re-encoded; any other form goes through `RpcReply`."""
        raw = await self._request(service, op, request, correlation_id, timeout)
        if raw.startswith(_OK_PREFIX) and raw.endswith(_OK_SUFFIX):
            self._metrics.rpc.labels(service, op, "ok").inc()
            return raw[len(_OK_PREFIX) : -len(_OK_SUFFIX)]
        return json.dumps(self._result(service, op, raw), separators=(",", ":")).encode()

    async def _request(
        self,
        service: str,
        op: str,
        request: BaseModel | dict[str, Any],
        correlation_id: str,
        timeout: float | None,
    ) -> bytes:
        body = (
            request.model_dump_json().encode()
            if isinstance(request, BaseModel)
            else json.dumps(request).encode()
        )
        started = time.perf_counter()
        try:
            message = await self._broker.connection.request(
                self._namespace.rpc(service, op),
                body,
                timeout=timeout or self._timeout,
                headers={CORRELATION_HEADER: correlation_id},
            )
            return bytes(message.data)
        except _UNAVAILABLE as exc:
            self._metrics.rpc.labels(service, op, "unavailable").inc()
            log.warning("rpc_unavailable", service=service, op=op, error=type(exc).__name__)
            raise ServiceUnavailable(service, op, type(exc).__name__) from exc
        finally:
            self._metrics.rpc_latency.labels(service, op).observe(time.perf_counter() - started)

    def _result(self, service: str, op: str, raw: bytes) -> Any:
        try:
            reply = RpcReply.model_validate_json(raw)
        except ValidationError as exc:
            self._metrics.rpc.labels(service, op, "bad_reply").inc()
            log.error("rpc_bad_reply", service=service, op=op)
            raise BadReply(service, op) from exc
        if not reply.ok:
            error = reply.error or RpcError.of("internal", "error without details")
            self._metrics.rpc.labels(service, op, error.code).inc()
            raise RpcFailure(error)
        self._metrics.rpc.labels(service, op, "ok").inc()
        return reply.result


_OK_PREFIX = b'{"ok":true,"result":'
_OK_SUFFIX = b',"error":null}'
