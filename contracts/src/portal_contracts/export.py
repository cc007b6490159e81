"""`python -m portal_contracts.export DIR`: JSON Schema of every contract and an AsyncAPI
document of the subjects, written to DIR (the schemas are derived; never edit them by hand)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import RootModel, TypeAdapter

from . import config_rpc, crm, member, portal, rpc, ticket_view_rpc
from .subjects import DEFAULT, Namespace

EVENT_CONTRACTS: dict[str, Any] = {
    "CrmEvent": crm.CrmEvent,
    "CrmRecord": crm.CrmRecord,
    "CrmBatch": crm.CrmBatch,
    "PortalEvent": portal.PortalEvent,
    "PortalView": portal.PortalView,
    "MemberEvent": member.MemberEvent,
    "PortalConfigRequest": config_rpc.PortalConfigRequest,
    "IssueMemberToken": member.IssueMemberToken,
    "TicketViewRequest": ticket_view_rpc.TicketViewRequest,
    "RpcReply": rpc.RpcReply,
}


def json_schemas() -> dict[str, dict[str, Any]]:
    return {
        name: TypeAdapter(model).json_schema(mode="validation")
        for name, model in EVENT_CONTRACTS.items()
    }


def asyncapi(namespace: Namespace = DEFAULT) -> dict[str, Any]:
    from faststream.nats import NatsBroker
    from faststream.specification import AsyncAPI

    broker = NatsBroker()
    account, event_type = "{account_id}", "{event_type}"
    broker.publisher(
        namespace.crm_subject(account, event_type),
        stream=namespace.crm_stream,
        title="crm-events",
        description="CRM events, one per message, `Nats-Msg-Id` = event_id.",
        schema=crm.CrmRecord,
    )
    broker.publisher(
        namespace.config_subject(account, event_type),
        stream=namespace.config_stream,
        title="portal-configuration-events",
        description="Portal and member events relayed from portal-config's outbox.",
        schema=RootModel[portal.PortalEvent | member.MemberEvent],
    )
    broker.publisher(
        namespace.rpc(config_rpc.SERVICE, "{op}"),
        title="portal-config-requests",
        description="Request/reply to portal-config; replies are RpcReply.",
        schema=RootModel[config_rpc.PortalConfigRequest],
    )
    broker.publisher(
        namespace.rpc("ticket-view", "{op}"),
        title="ticket-view-queries",
        description="Request/reply to ticket-view; replies are RpcReply.",
        schema=RootModel[ticket_view_rpc.TicketViewRequest],
    )
    spec = AsyncAPI(broker, title="Customer portal integration", version="1.0.0")
    return dict(spec.to_specification().to_jsonable())


def export(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in json_schemas().items():
        path = directory / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(path)
    path = directory / "asyncapi.json"
    path.write_text(json.dumps(asyncapi(), indent=2, sort_keys=True) + "\n")
    written.append(path)
    return written


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else Path("contracts/schema")
    for path in export(target):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
