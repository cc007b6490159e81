"""Request/reply on `<ns>.rpc.ticket-view.<op>` (queue group `<ns>-ticket-view`).

Thin: parse the contract message, call one use case, map its outcome to an `RpcReply`.
Requests are handled concurrently (bounded); a failure never kills the subscriber.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from time import perf_counter
from typing import Any

import orjson
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from portal_contracts import CORRELATION_HEADER, Namespace
from portal_contracts.rpc import RpcError
from portal_contracts.ticket_view_rpc import (
    SERVICE,
    FindContactByEmail,
    GetContact,
    GetTicket,
    GetTicketState,
    ListTickets,
    Ping,
    PreviewTickets,
    TicketViewRequest,
)
from pydantic import TypeAdapter, ValidationError

from ..adapters.read_model import PgReadModel
from ..application import queries
from ..observability import Metrics

log = structlog.get_logger("ticket_view.rpc")
_request: TypeAdapter[Any] = TypeAdapter(TicketViewRequest)


class Unavailable(Exception):
    pass


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _encode(reply: dict[str, Any]) -> bytes:
    """Compact JSON, datetimes as UTC `...Z`. orjson writes an aware datetime with its own
    offset, so the read model's connections run in UTC (`adapters.db.open_pool`); what
    orjson refuses (an integer beyond 64 bits in CRM properties) goes the standard way."""
    try:
        return orjson.dumps(reply, option=orjson.OPT_UTC_Z)
    except orjson.JSONEncodeError:
        return json.dumps(reply, default=_json_default, separators=(",", ":")).encode()


def _failure(error: RpcError) -> dict[str, Any]:
    return {"ok": False, "result": None, "error": error.model_dump(mode="json")}


class RpcServer:
    def __init__(
        self,
        nc: Client,
        ns: Namespace,
        model: PgReadModel,
        metrics: Metrics,
        limit: int,
        shed_after: float = 2.0,
    ):
        self._nc = nc
        self._ns = ns
        self._model = model
        self._metrics = metrics
        self._prefix = ns.rpc(SERVICE, "")
        self._slots = asyncio.Semaphore(limit)
        self._shed_after = shed_after
        self._tasks: set[asyncio.Task[None]] = set()
        self._sub: Subscription | None = None

    async def start(self) -> None:
        self._sub = await self._nc.subscribe(
            self._prefix + ">",
            queue=self._ns.rpc_queue(SERVICE),
            cb=self._on_request,
            pending_msgs_limit=-1,
        )

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()
            self._sub = None
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)

    async def _on_request(self, msg: Msg) -> None:
        task = asyncio.create_task(self._admit(msg, perf_counter()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _admit(self, msg: Msg, received: float) -> None:
        """Bounded concurrency; a request that queued longer than `shed_after` seconds is
        answered `unavailable` at once, so an overload degrades instead of collapsing."""
        async with self._slots:
            if perf_counter() - received > self._shed_after:
                self._metrics.requests.labels("any", "shed").inc()
                error = RpcError.of("unavailable", "overloaded, retry later")
                if msg.reply:
                    await msg.respond(_encode(_failure(error)))
                return
            await self._handle(msg, received)

    async def _handle(self, msg: Msg, started: float) -> None:
        op = msg.subject[len(self._prefix) :]
        correlation_id = (msg.headers or {}).get(CORRELATION_HEADER)
        structlog.contextvars.bind_contextvars(correlation_id=correlation_id, op=op)
        outcome = "ok"
        try:
            reply = await self._reply(op, msg.data)
            if not reply["ok"]:
                outcome = reply["error"]["code"]
        except Exception:
            log.exception("rpc_failed")
            outcome = "internal"
            reply = _failure(RpcError(code="internal", message="internal error", status=500))
        if msg.reply:
            await msg.respond(_encode(reply))
        known = op if op in _OPS else "unknown"
        self._metrics.requests.labels(known, outcome).inc()
        self._metrics.latency.labels(known).observe(perf_counter() - started)

    async def _reply(self, op: str, data: bytes) -> dict[str, Any]:
        try:
            document = json.loads(data) if data else {}
            if not isinstance(document, dict):
                raise ValueError("the request body must be a JSON object")
            document.setdefault("op", op)
            if document["op"] != op:
                raise ValueError("the body's op does not match the subject")
            request = _request.validate_python(document)
        except ValidationError as exc:
            details = exc.errors(include_url=False, include_context=False, include_input=False)
            error = RpcError.of("validation_error", "invalid request", errors=details)
            return _failure(error)
        except ValueError as exc:
            return _failure(RpcError.of("validation_error", str(exc)))
        account_id = getattr(request, "account_id", None)
        if account_id:
            structlog.contextvars.bind_contextvars(account_id=account_id)
        try:
            result = await self._dispatch(request)
        except queries.NotFound as exc:
            return _failure(RpcError.of("not_found", str(exc)))
        except queries.InvalidInput as exc:
            return _failure(RpcError.of("validation_error", str(exc)))
        except Unavailable as exc:
            return _failure(RpcError.of("unavailable", str(exc)))
        return {"ok": True, "result": result, "error": None}

    async def _dispatch(self, request: Any) -> Any:
        model = self._model
        match request:
            case ListTickets() | PreviewTickets():
                return await queries.list_tickets(model, request)
            case GetTicket():
                return await queries.get_ticket(model, request)
            case GetTicketState():
                return await queries.get_ticket_state(model, request)
            case FindContactByEmail():
                return await queries.find_contact_by_email(model, request)
            case GetContact():
                return await queries.get_contact(model, request)
            case Ping():
                try:
                    await asyncio.wait_for(model.ping(), 2.0)
                except Exception as exc:
                    raise Unavailable("database unreachable") from exc
                return {"status": "ok"}
        raise queries.InvalidInput("unknown operation")


_OPS = frozenset(
    {
        "tickets.list",
        "tickets.preview",
        "tickets.get",
        "tickets.state",
        "contacts.find_by_email",
        "contacts.get",
        "ping",
    }
)
