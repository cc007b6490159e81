"""Request/reply on core NATS: `<ns>.rpc.portal-config.<op>` in queue group `<ns>-portal-config`.

Thin: parse the contract request, call one use case, map its result or refusal to `RpcReply`.
Bad input → `validation_error`; a refusal → its code; an unreachable database →
`unavailable` (503); anything unexpected is logged and answered with `internal` (500) — the
subscriber never dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, get_args

import psycopg
import structlog
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from portal_contracts import CORRELATION_HEADER, Namespace
from portal_contracts import config_rpc as rpc
from portal_contracts import member as ev
from portal_contracts import member_rpc as mrpc
from portal_contracts.rpc import RpcError, RpcReply
from psycopg_pool import PoolTimeout
from pydantic import BaseModel, TypeAdapter, ValidationError

from ..application.accounts import AccountService
from ..application.customer import CustomerAccess
from ..application.members import MemberService
from ..application.portals import PortalService
from ..domain.errors import Refusal
from ..observability import RPC_LATENCY, RPC_REQUESTS

log = structlog.get_logger("portal_config.rpc")

_REQUESTS: TypeAdapter[Any] = TypeAdapter(rpc.PortalConfigRequest)
_MEMBER_REQUESTS: TypeAdapter[Any] = TypeAdapter(mrpc.MemberRequest)
_CONFIG_OPS = frozenset(
    cls.model_fields["op"].default for cls in get_args(get_args(rpc.PortalConfigRequest)[0])
)
_MEMBER_OPS = frozenset(
    cls.model_fields["op"].default for cls in get_args(get_args(mrpc.MemberRequest)[0])
)
KNOWN_OPS = _CONFIG_OPS | _MEMBER_OPS | {"member.issue_token", "ping"}


class RpcServer:
    def __init__(
        self,
        nc: NatsClient,
        namespace: Namespace,
        accounts: AccountService,
        portals: PortalService,
        ping: Callable[[], Awaitable[bool]],
        members: MemberService | None = None,
        customer: CustomerAccess | None = None,
    ) -> None:
        self.nc = nc
        self.namespace = namespace
        self.accounts = accounts
        self.portals = portals
        self.ping = ping
        self.members = members
        self.customer = customer
        self._prefix = namespace.rpc(rpc.SERVICE, "")
        self._sub: Subscription | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._sub = await self.nc.subscribe(
            self.namespace.rpc(rpc.SERVICE, ">"),
            queue=self.namespace.rpc_queue(rpc.SERVICE),
            cb=self._on_message,
        )
        await self.nc.flush()

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)

    async def _on_message(self, msg: Msg) -> None:
        task = asyncio.create_task(self._answer(msg))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, msg: Msg) -> None:
        op = msg.subject[len(self._prefix) :]
        label = op if op in KNOWN_OPS else "unknown"
        correlation_id = (msg.headers or {}).get(CORRELATION_HEADER) or uuid.uuid4().hex
        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(correlation_id=correlation_id, op=op):
            reply = await self.dispatch(op, msg.data, correlation_id)
        RPC_LATENCY.labels(label).observe(time.perf_counter() - started)
        RPC_REQUESTS.labels(label, "ok" if reply.ok else "error").inc()
        if msg.reply:
            with contextlib.suppress(Exception):
                await msg.respond(reply.model_dump_json().encode())

    async def dispatch(self, op: str, data: bytes, correlation_id: str | None) -> RpcReply:
        try:
            if op == "ping":
                if await self.ping():
                    return RpcReply.success({"service": rpc.SERVICE})
                return RpcReply.failure(RpcError.of("unavailable", "database unreachable"))
            request = _parse(op, data)
            account_id = getattr(request, "account_id", None)
            if account_id:
                structlog.contextvars.bind_contextvars(account_id=account_id)
            result = await self._call(request, correlation_id)
            if isinstance(result, BaseModel):
                result = result.model_dump(mode="json")
            return RpcReply.success(result)
        except _BadRequest as exc:
            return RpcReply.failure(RpcError.of("validation_error", str(exc), **exc.details))
        except Refusal as exc:
            log.info("rpc_refused", code=exc.code, reason=exc.message)
            return RpcReply.failure(RpcError.of(exc.code, exc.message, **exc.details))
        except (psycopg.OperationalError, PoolTimeout):
            log.exception("rpc_database_unavailable")
            return RpcReply.failure(RpcError.of("unavailable", "the database is unavailable"))
        except Exception:
            log.exception("rpc_failed")
            return RpcReply.failure(RpcError(code="internal", message="internal error", status=500))

    async def _call(self, req: Any, correlation_id: str | None) -> Any:
        a, p = self.accounts, self.portals
        match req:
            case rpc.ResolveApiKey():
                return await a.resolve_key(req)
            case rpc.EnsureAccount():
                return await a.ensure(req)
            case rpc.GetAccount():
                return await a.get(req.account_id)
            case rpc.AddDomain():
                return await a.add_domain(req)
            case rpc.ListDomains():
                return await a.list_domains(req)
            case rpc.CreateInbox():
                return await a.create_inbox(req)
            case rpc.ListInboxes():
                return await a.list_inboxes(req)
            case rpc.CreatePortal():
                return await p.create(req, correlation_id)
            case rpc.ListPortals():
                return await p.list(req)
            case rpc.GetPortal():
                return await p.get(req)
            case rpc.PortalHistory():
                return await p.history(req)
            case rpc.ResolvePortal():
                return await p.resolve(req)
            case rpc._PortalCommand():
                return await p.handle(req, correlation_id)
        if self.members is not None and self.customer is not None:
            return await self._call_member(req, correlation_id)
        raise _BadRequest(f"unsupported operation {req.op!r}")

    async def _call_member(self, req: Any, correlation_id: str | None) -> Any:
        m, c = self.members, self.customer
        assert m is not None and c is not None
        match req:
            case ev.IssueMemberToken():
                return await m.issue_token(req)
            case mrpc.InviteMember():
                return await m.invite(req, correlation_id)
            case mrpc.ListMembers():
                return await m.list(req)
            case mrpc.RevokeMember():
                return await m.revoke(req, correlation_id)
            case mrpc.Register():
                return await c.register(req, correlation_id)
            case mrpc.Activate():
                return await c.activate(req, correlation_id)
            case mrpc.Login():
                return await c.login(req, correlation_id)
            case mrpc.Logout():
                return await c.logout(req)
            case mrpc.RequestPasswordReset():
                return await c.request_password_reset(req, correlation_id)
            case mrpc.ConfirmPasswordReset():
                return await c.confirm_password_reset(req, correlation_id)
            case mrpc.ResolveSession():
                return await c.resolve(req)
        raise _BadRequest(f"unsupported operation {req.op!r}")


class _BadRequest(Exception):
    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


def _parse(op: str, data: bytes) -> Any:
    """The body is the contract model's JSON; its `op` may be omitted (taken from the subject)."""
    if op not in KNOWN_OPS:
        raise _BadRequest(f"unknown operation {op!r}")
    try:
        body = json.loads(data or b"{}")
    except ValueError:
        raise _BadRequest("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise _BadRequest("the request body must be a JSON object")
    body.setdefault("op", op)
    if body["op"] != op:
        raise _BadRequest(f"the body's op {body['op']!r} does not match the subject's {op!r}")
    try:
        if op == "member.issue_token":
            return ev.IssueMemberToken.model_validate(body)
        if op in _MEMBER_OPS:
            return _MEMBER_REQUESTS.validate_python(body)
        return _REQUESTS.validate_python(body)
    except ValidationError as exc:
        errors = json.loads(exc.json(include_url=False, include_input=False))
        raise _BadRequest("invalid request", errors=errors) from None
