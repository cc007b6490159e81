"""Use cases of the Member aggregate: admin invitations, listing, revocation, the send-time
token for registration and reset emails, and the command runner the other use cases share.

Rules:
- Ids are scoped to the request's account: another account's portal is `not_found`; so is a
  contact unknown in the account's CRM data (explicit invitation).
- An explicit invitation leaves at once (send_after = now), also on a system domain.
- `member.issue_token` answers a fresh token (256 random bits; only its SHA-256 is stored)
  bound to portal, contact, purpose and event; registration tokens live 72 h, reset tokens
  30 min. `conflict` when no email should go: the invitation was cancelled or superseded,
  the member is active or revoked, or no reset is pending.
- A command losing an append race is decided again on the fresh state (up to 5 times).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from portal_contracts import member as ev
from portal_contracts import member_rpc as mrpc
from portal_contracts.member import MemberEvent

from ..adapters.auth import PgAuthStore, TokenRow, end_sessions
from ..adapters.contacts import PgContactStore
from ..adapters.members import PgMemberStore, SideEffect
from ..domain import member as m
from ..domain.errors import Conflict, NotFound
from ..domain.portal import PortalState
from ..observability import MEMBER_EVENTS
from .ports import Clock, ConcurrencyError, IdFactory, PortalStore

MAX_ATTEMPTS = 5
TOKEN_TTL = {"registration": timedelta(hours=72), "password_reset": timedelta(minutes=30)}


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


SessionsEndedHook = Callable[[str, str, str], Awaitable[None]]
"""(account_id, portal_id, contact_id), called after a commit that ended the member's
sessions: the gateways forget what they remember of them."""


async def _nothing(_account_id: str, _portal_id: str, _contact_id: str) -> None:
    return None


class MemberService:
    def __init__(
        self,
        members: PgMemberStore,
        portals: PortalStore,
        contacts: PgContactStore,
        auth: PgAuthStore,
        clock: Clock,
        new_id: IdFactory,
        on_append: Callable[[], None] = lambda: None,
        on_sessions_ended: SessionsEndedHook | None = None,
    ) -> None:
        self.members = members
        self.portals = portals
        self.contacts = contacts
        self.auth = auth
        self.clock = clock
        self.new_id = new_id
        self.on_append = on_append
        self.on_sessions_ended = on_sessions_ended or _nothing

    async def execute(
        self,
        account_id: str,
        portal_id: str,
        contact_id: str,
        make_command: Callable[[m.MemberState], m.MemberCommand],
        correlation_id: str | None = None,
        side_effect: Callable[[m.MemberState, list[MemberEvent]], SideEffect | None] | None = None,
    ) -> tuple[m.MemberState, list[MemberEvent]]:
        """Load, decide, append (with an optional side effect in the same transaction)."""
        for _ in range(MAX_ATTEMPTS):
            state = await self.members.get(account_id, portal_id, contact_id)
            events = m.decide(state, make_command(state), self.clock(), self.new_id)
            if not events:
                return state, []
            events = [e.model_copy(update={"correlation_id": correlation_id}) for e in events]
            new_state = m.fold(state, events)
            effect = side_effect(new_state, events) if side_effect else None
            try:
                await self.members.save(state.version, events, new_state, effect)
            except ConcurrencyError:
                continue
            for event in events:
                MEMBER_EVENTS.labels(event.type).inc()
            self.on_append()
            return new_state, events
        raise Conflict("the member is being changed concurrently; try again")

    async def portal(self, account_id: str, portal_id: str) -> PortalState:
        state = await self.portals.get(account_id, portal_id)
        if state is None:
            raise NotFound("no such portal", portal_id=portal_id)
        return state

    async def invite(self, req: mrpc.InviteMember, correlation_id: str | None) -> mrpc.MemberView:
        await self.portal(req.account_id, req.portal_id)
        contact = await self.contacts.get(req.account_id, req.contact_id)
        if contact is None or contact.deleted:
            raise NotFound("no such contact", contact_id=req.contact_id)
        now = self.clock()
        state, _ = await self.execute(
            req.account_id,
            req.portal_id,
            req.contact_id,
            lambda _s: m.Invite("explicit", now),
            correlation_id,
        )
        return view(state)

    async def list(self, req: mrpc.ListMembers) -> dict[str, Any]:
        await self.portal(req.account_id, req.portal_id)
        states = await self.members.for_portal(req.account_id, req.portal_id)
        return {"items": [view(s).model_dump(mode="json") for s in states]}

    async def revoke(self, req: mrpc.RevokeMember, correlation_id: str | None) -> dict[str, Any]:
        """Every session of the member ends in the same transaction as the revocation."""
        await self.portal(req.account_id, req.portal_id)

        def effect(state: m.MemberState, _events: list[MemberEvent]) -> SideEffect:
            return lambda conn: end_sessions(conn, state.portal_id, state.contact_id)

        await self.execute(
            req.account_id,
            req.portal_id,
            req.contact_id,
            lambda _s: m.Revoke(),
            correlation_id,
            effect,
        )
        await self.on_sessions_ended(req.account_id, req.portal_id, req.contact_id)
        return {}

    async def issue_token(self, req: ev.IssueMemberToken) -> ev.IssuedMemberToken:
        await self.portal(req.account_id, req.portal_id)
        state = await self.members.get(req.account_id, req.portal_id, req.contact_id)
        if state.version == 0:
            raise NotFound("no such member", contact_id=req.contact_id)
        if req.purpose == "registration":
            due = state.status == "invited" and state.invitation_event_id == req.event_id
        else:
            due = state.status == "active" and state.reset_event_id == req.event_id
        if not due:
            raise Conflict("no email is due for this event", status=state.status)
        token = new_secret()
        expires_at = self.clock() + TOKEN_TTL[req.purpose]
        row = TokenRow(
            req.account_id,
            req.portal_id,
            req.contact_id,
            req.purpose,
            req.event_id,
            expires_at,
            None,
        )
        await self.auth.insert_token(secret_hash(token), row)
        return ev.IssuedMemberToken(token=token, expires_at=expires_at)


def view(state: m.MemberState) -> mrpc.MemberView:
    status = state.status if state.status != "none" else "invited"
    return mrpc.MemberView(
        contact_id=state.contact_id,
        status=status,
        invited_at=state.invited_at,
        activated_at=state.activated_at,
        revoked_at=state.revoked_at,
    )
