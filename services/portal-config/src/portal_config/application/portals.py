"""Use cases of the Portal aggregate: load state, decide, append, answer with the view.

Rules:
- Ids are scoped to the request's account: another account's portal is `not_found`.
- With `expected_version` (from `If-Match`) a stale version is `precondition_failed`, also
  when another writer commits between our read and our append. Without it, a command that
  loses an append race is decided again on the fresh state.
- A command that produces no event (an edit that changes nothing) returns the current view.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from portal_contracts import config_rpc as rpc
from portal_contracts.portal import PortalEvent, PortalView

from ..domain import commands as cmd
from ..domain.errors import Conflict, NotFound, PreconditionFailed
from ..domain.portal import PortalState, decide, evolve
from ..domain.view import to_view
from .ports import AccountStore, Clock, ConcurrencyError, IdFactory, PortalStore

MAX_ATTEMPTS = 5


class PortalService:
    def __init__(
        self,
        portals: PortalStore,
        accounts: AccountStore,
        clock: Clock,
        new_id: IdFactory,
        on_append: Callable[[], None] = lambda: None,
        on_events: Callable[[list[PortalEvent]], None] = lambda _events: None,
    ) -> None:
        self.portals = portals
        self.accounts = accounts
        self.clock = clock
        self.new_id = new_id
        self.on_append = on_append
        self.on_events = on_events

    async def create(self, req: rpc.CreatePortal, correlation_id: str | None) -> PortalView:
        if await self.accounts.get_account(req.account_id) is None:
            raise NotFound("no such account")
        command = cmd.CreatePortal(req.account_id, self.new_id(), req.title)
        events = decide(None, command, self.clock(), self.new_id)
        return await self._commit(None, events, correlation_id)

    async def handle(self, req: rpc._PortalCommand, correlation_id: str | None) -> PortalView:
        for _ in range(MAX_ATTEMPTS):
            state = await self._load(req.account_id, req.portal_id)
            if req.expected_version is not None and req.expected_version != state.version:
                raise PreconditionFailed(
                    "the portal has changed", expected=req.expected_version, actual=state.version
                )
            command = await self._command(req)
            events = decide(state, command, self.clock(), self.new_id)
            try:
                return await self._commit(state, events, correlation_id)
            except ConcurrencyError:
                if req.expected_version is not None:
                    raise PreconditionFailed(
                        "the portal has changed", expected=req.expected_version
                    ) from None
        raise Conflict("the portal is being changed concurrently; try again")

    async def _commit(
        self, state: PortalState | None, events: list[PortalEvent], correlation_id: str | None
    ) -> PortalView:
        if not events:
            assert state is not None
            return to_view(state)
        events = [e.model_copy(update={"correlation_id": correlation_id}) for e in events]
        new_state = state
        for event in events:
            new_state = evolve(new_state, event)
        assert new_state is not None
        await self.portals.save(state.version if state else 0, events, new_state)
        self.on_append()
        self.on_events(events)
        return to_view(new_state)

    async def _command(self, req: rpc._PortalCommand) -> cmd.PortalCommand:
        if isinstance(req, rpc.SetPortalDomain):
            connected = await self.accounts.get_domain(req.account_id, req.domain)
            return cmd.SetDomain(req.domain, req.slug, connected)
        if isinstance(req, rpc.ConfigurePortalTickets):
            exists = await self.accounts.inbox_exists(req.account_id, req.default_inbox_id)
            return cmd.ConfigureTickets(req.default_inbox_id, exists, req.visibility)
        if isinstance(req, rpc.ConfigurePortalAccess):
            return cmd.ConfigureAccess(req.access)
        if isinstance(req, rpc.UpdatePortalSettings):
            return cmd.UpdateSettings(
                req.title, req.ticket_display, req.consent_notice, req.support_form
            )
        if isinstance(req, rpc.ActivatePortal):
            return cmd.Activate()
        if isinstance(req, rpc.DeactivatePortal):
            return cmd.Deactivate()
        raise TypeError(f"not a portal command: {req!r}")

    async def _load(self, account_id: str, portal_id: str) -> PortalState:
        state = await self.portals.get(account_id, portal_id)
        if state is None:
            raise NotFound("no such portal", portal_id=portal_id)
        return state

    async def get(self, req: rpc.GetPortal) -> PortalView:
        return to_view(await self._load(req.account_id, req.portal_id))

    async def list(self, req: rpc.ListPortals) -> dict[str, Any]:
        states = await self.portals.list_for_account(req.account_id)
        return {"items": [to_view(s).model_dump(mode="json") for s in states]}

    async def history(self, req: rpc.PortalHistory) -> dict[str, Any]:
        events = await self.portals.history(req.account_id, req.portal_id)
        if events is None:
            raise NotFound("no such portal", portal_id=req.portal_id)
        items = [
            {
                "version": e.version,
                "type": e.type,
                "occurred_at": e.payload["occurred_at"],
                "data": e.payload["data"],
            }
            for e in events
        ]
        return {"items": items}

    async def resolve(self, req: rpc.ResolvePortal) -> rpc.ResolvedPortal:
        state = await self.portals.resolve(req.host, req.slug)
        if state is None:
            raise NotFound("no such portal")
        view = to_view(state)
        return rpc.ResolvedPortal(**dict(view), account_id=state.account_id)
