"""Subject and stream names. Every name lives under one namespace, so that several
installations (or test runs) can share a NATS server without seeing each other.

Subjects (namespace `portal` by default):

- `portal.crm.v1.<account_id>.<event type>` — CRM events (`CrmRecord`), stream `PORTAL_CRM`.
- `portal.config.v1.<account_id>.<event type>` — portal and member events, stream `PORTAL_CONFIG`.
- `portal.dlq.<service>.<reason>` — parked poison messages, stream `PORTAL_DLQ`.
- `portal.rpc.<service>.<operation>` — request/reply (core NATS, queue groups).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(r"^[a-z][a-z0-9_\-]{0,31}$")


@dataclass(frozen=True)
class Namespace:
    name: str = "portal"

    def __post_init__(self) -> None:
        if not _TOKEN.match(self.name):
            raise ValueError(f"namespace must match {_TOKEN.pattern}: {self.name!r}")

    @property
    def _stream_prefix(self) -> str:
        return self.name.upper().replace("-", "_")

    # CRM -----------------------------------------------------------------------------
    @property
    def crm_stream(self) -> str:
        return f"{self._stream_prefix}_CRM"

    @property
    def crm_subjects(self) -> str:
        return f"{self.name}.crm.v1.>"

    def crm_subject(self, account_id: str, event_type: str) -> str:
        return f"{self.name}.crm.v1.{account_id}.{event_type.replace('.', '_')}"

    # Portal configuration (portal + member events) -----------------------------------
    @property
    def config_stream(self) -> str:
        return f"{self._stream_prefix}_CONFIG"

    @property
    def config_subjects(self) -> str:
        return f"{self.name}.config.v1.>"

    def config_subject(self, account_id: str, event_type: str) -> str:
        return f"{self.name}.config.v1.{account_id}.{event_type.replace('.', '_')}"

    # Dead letters --------------------------------------------------------------------
    @property
    def dlq_stream(self) -> str:
        return f"{self._stream_prefix}_DLQ"

    @property
    def dlq_subjects(self) -> str:
        return f"{self.name}.dlq.>"

    def dlq_subject(self, service: str, reason: str) -> str:
        return f"{self.name}.dlq.{service}.{reason}"

    # Notifications (core NATS, every subscriber gets each) ---------------------------
    @property
    def sessions_ended(self) -> str:
        return f"{self.name}.notify.sessions_ended"

    # Request / reply -----------------------------------------------------------------
    def rpc(self, service: str, operation: str) -> str:
        return f"{self.name}.rpc.{service}.{operation}"

    def rpc_queue(self, service: str) -> str:
        return f"{self.name}-{service}"


DEFAULT = Namespace()

CORRELATION_HEADER = "X-Correlation-Id"
