"""Request/reply client over NATS: one call = one contract request, one `RpcReply`.

A missing responder, a timeout or a lost connection means the backend is unavailable
(`ServiceUnavailable`); a reply that is not an `RpcReply` is a broken backend (`BadReply`);
a refusal by the backend is an `RpcFailure` carrying the backend's `RpcError`.
"""

from __future__ import annotations

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
        body = request.model_dump(mode="json") if isinstance(request, BaseModel) else request
        started = time.perf_counter()
        outcome = "ok"
        try:
            message = await self._broker.request(
                body,
                self._namespace.rpc(service, op),
                headers={CORRELATION_HEADER: correlation_id},
                correlation_id=correlation_id,
                timeout=timeout or self._timeout,
            )
            reply = _parse(service, op, message.body)
            if not reply.ok:
                outcome = reply.error.code if reply.error else "error"
                raise RpcFailure(reply.error or RpcError.of("internal", "error without details"))
            return reply.result
        except _UNAVAILABLE as exc:
            outcome = "unavailable"
            log.warning("rpc_unavailable", service=service, op=op, error=type(exc).__name__)
            raise ServiceUnavailable(service, op, type(exc).__name__) from exc
        except BadReply:
            outcome = "bad_reply"
            log.error("rpc_bad_reply", service=service, op=op)
            raise
        finally:
            self._metrics.rpc.labels(service, op, outcome).inc()
            self._metrics.rpc_latency.labels(service, op).observe(time.perf_counter() - started)


def _parse(service: str, op: str, raw: bytes) -> RpcReply:
    try:
        return RpcReply.model_validate_json(raw)
    except ValidationError as exc:
        raise BadReply(service, op) from exc
