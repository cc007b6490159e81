"""Request/reply answered by the notifier: `ping` (ok only when its database answers)."""

from __future__ import annotations

import structlog
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from portal_contracts import Namespace
from portal_contracts.base import dump
from portal_contracts.rpc import RpcError, RpcReply

from notifier.adapters.db import SqlDeliveryRepository

log = structlog.get_logger("notifier.rpc")
SERVICE = "notifier"


async def serve_ping(nc: NatsClient, ns: Namespace, repo: SqlDeliveryRepository) -> Subscription:
    async def ping(msg: Msg) -> None:
        try:
            await repo.ping()
            reply = RpcReply.success({"service": SERVICE})
        except Exception as exc:
            log.warning("ping_database_unreachable", error=repr(exc))
            reply = RpcReply.failure(RpcError.of("unavailable", "database unreachable"))
        if msg.reply:
            await msg.respond(dump(reply))

    return await nc.subscribe(ns.rpc(SERVICE, "ping"), queue=ns.rpc_queue(SERVICE), cb=ping)
