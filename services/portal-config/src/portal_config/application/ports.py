"""What the use cases need from the outside world."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from portal_contracts.config_rpc import AccountView, DomainView, InboxView
from portal_contracts.portal import PortalEvent

from ..domain.commands import ConnectedDomain
from ..domain.portal import PortalState

Clock = Callable[[], datetime]
IdFactory = Callable[[], str]


class ConcurrencyError(Exception):
    """The stream is no longer at the expected version: someone else appended first."""

    def __init__(self, stream_id: str, expected_version: int) -> None:
        super().__init__(
            f"concurrency conflict on stream {stream_id!r}: expected version {expected_version}"
        )
        self.stream_id = stream_id
        self.expected_version = expected_version


class AccountStore(Protocol):
    async def ensure_account(
        self, name: str, new_id: str, key_hash: str | None, generated_key_hash: str
    ) -> tuple[AccountView, bool]: ...
    async def account_by_key_hash(self, key_hash: str) -> AccountView | None: ...
    async def get_account(self, account_id: str) -> AccountView | None: ...
    async def add_domain(self, account_id: str, domain: DomainView) -> None: ...
    async def list_domains(self, account_id: str) -> list[DomainView]: ...
    async def get_domain(self, account_id: str, domain: str) -> ConnectedDomain | None: ...
    async def create_inbox(self, account_id: str, inbox: InboxView) -> None: ...
    async def list_inboxes(self, account_id: str) -> list[InboxView]: ...
    async def inbox_exists(self, account_id: str, inbox_id: str) -> bool: ...


@dataclass(frozen=True)
class StoredEvent:
    stream_id: str
    version: int
    event_id: str
    type: str
    occurred_at: datetime
    payload: dict[str, Any]


class PortalStore(Protocol):
    async def get(self, account_id: str, portal_id: str) -> PortalState | None: ...
    async def list_for_account(self, account_id: str) -> list[PortalState]: ...
    async def resolve(self, host: str, slug: str) -> PortalState | None: ...
    async def history(self, account_id: str, portal_id: str) -> list[StoredEvent] | None: ...
    async def save(
        self, expected_version: int, events: list[PortalEvent], state: PortalState
    ) -> None: ...
