"""Customer access: self-registration, activation, login, logout, password reset, sessions.

Rules:
- Enumeration safety: `register` and `request_password_reset` answer ok whatever the email;
  `login` answers one `unauthorized` for an unknown email and a wrong password, after the
  same argon2 work (a dummy hash for unknown emails).
- Open mode: an email of a live contact of the account (case-insensitive), within the
  portal's allowed email domains if any, is invited (self_registration, no delay); at most
  `register_limit` registrations per portal+email per window, silently.
- Tokens are single use, bound to portal and purpose, and expire; anything else is
  `bad_request`. Passwords follow `passwords.check_password`.
- Login failures are counted in PostgreSQL per portal+email and per client address in a
  sliding window; at the limit → `rate_limited` with `retry_after_seconds` (never a
  permanent lock-out). A successful login forgets the portal+email failures.
- Sessions: 256-bit ids (SHA-256 stored) with a CSRF token; a new one at each activation,
  login and reset confirmation; idle and absolute expiry; `resolve` extends the idle expiry
  at most once a minute; only a session of the asking portal resolves. Logout deletes it;
  a confirmed reset and a revocation end the member's other sessions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from portal_contracts import member_rpc as mrpc
from portal_contracts.member import MemberEvent
from psycopg import AsyncConnection

from ..adapters.auth import (
    PgAuthStore,
    SessionRow,
    TokenRow,
    end_sessions,
    insert_session,
    set_password,
    use_token,
)
from ..adapters.contacts import PgContactStore
from ..domain import member as m
from ..domain.access import email_domain_allowed
from ..domain.errors import BadRequest, RateLimited, Unauthorized
from ..observability import LOGINS
from .members import MemberService, new_secret, secret_hash
from .passwords import Hasher, check_password
from .ports import Clock

INVALID_TOKEN = "the link is invalid, used or expired"
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Limits:
    session_idle: timedelta = timedelta(minutes=30)
    session_absolute: timedelta = timedelta(hours=12)
    login_window: timedelta = timedelta(minutes=15)
    login_per_email: int = 5
    login_per_address: int = 50
    register_window: timedelta = timedelta(hours=1)
    register_per_email: int = 3


class CustomerAccess:
    def __init__(
        self,
        members: MemberService,
        contacts: PgContactStore,
        auth: PgAuthStore,
        hasher: Hasher,
        clock: Clock,
        limits: Limits = Limits(),
    ) -> None:
        self.members = members
        self.contacts = contacts
        self.auth = auth
        self.hasher = hasher
        self.clock = clock
        self.limits = limits

    async def register(self, req: mrpc.Register, correlation_id: str | None) -> dict[str, Any]:
        portal = await self.members.portal(req.account_id, req.portal_id)
        if portal.access is None or portal.access.mode != "open" or portal.status != "active":
            return {}
        email = req.email.strip().lower()
        if not email_domain_allowed(portal.access, email):
            return {}
        if not await self._allow(
            f"register:{portal.id}",
            email,
            self.limits.register_per_email,
            self.limits.register_window,
        ):
            return {}
        contact = await self.contacts.by_email(req.account_id, email)
        if contact is None:
            return {}
        now = self.clock()
        await self.members.execute(
            req.account_id,
            req.portal_id,
            contact.contact_id,
            lambda _s: m.Invite("self_registration", now),
            correlation_id,
        )
        return {}

    async def request_password_reset(
        self, req: mrpc.RequestPasswordReset, correlation_id: str | None
    ) -> dict[str, Any]:
        await self.members.portal(req.account_id, req.portal_id)
        email = req.email.strip().lower()
        if not await self._allow(
            f"reset:{req.portal_id}",
            email,
            self.limits.register_per_email,
            self.limits.register_window,
        ):
            return {}
        contact = await self.contacts.active_member_by_email(req.account_id, req.portal_id, email)
        if contact is None:
            return {}
        await self.members.execute(
            req.account_id,
            req.portal_id,
            contact.contact_id,
            lambda _s: m.RequestPasswordReset(),
            correlation_id,
        )
        return {}

    async def activate(self, req: mrpc.Activate, correlation_id: str | None) -> mrpc.SessionIssued:
        return await self._redeem(req, "registration", correlation_id)

    async def confirm_password_reset(
        self, req: mrpc.ConfirmPasswordReset, correlation_id: str | None
    ) -> mrpc.SessionIssued:
        return await self._redeem(req, "password_reset", correlation_id)

    async def _redeem(
        self,
        req: mrpc.Activate | mrpc.ConfirmPasswordReset,
        purpose: str,
        correlation_id: str | None,
    ) -> mrpc.SessionIssued:
        """Token → password → one transaction: token used, event, credential, sessions."""
        token_hash = secret_hash(req.token)
        token = await self.auth.token(token_hash)
        now = self.clock()
        if not _usable(token, req, purpose, now):
            raise BadRequest(INVALID_TOKEN)
        assert token is not None
        contact = await self.contacts.get(req.account_id, token.contact_id)
        check_password(req.password, contact.email if contact else None)
        password_hash = await self.hasher.hash(req.password)
        issued, session = self._new_session(req.account_id, req.portal_id, token.contact_id)

        def command(_s: m.MemberState) -> m.MemberCommand:
            if purpose == "registration":
                return m.Activate(token.event_id)
            return m.ChangePassword(token.event_id)

        def effect(state: m.MemberState, _events: list[MemberEvent]) -> Any:
            async def run(conn: AsyncConnection[Any]) -> None:
                if not await use_token(conn, token_hash, self.clock()):
                    raise BadRequest(INVALID_TOKEN)
                await set_password(conn, state.portal_id, state.contact_id, password_hash, now)
                await end_sessions(conn, state.portal_id, state.contact_id)
                await insert_session(conn, session)

            return run

        await self.members.execute(
            req.account_id, req.portal_id, token.contact_id, command, correlation_id, effect
        )
        await self.members.on_sessions_ended(req.account_id, req.portal_id, token.contact_id)
        return issued

    async def login(self, req: mrpc.Login, correlation_id: str | None) -> mrpc.SessionIssued:
        email = req.email.strip().lower()
        email_key = f"{req.portal_id}:{email}"
        await self._check_limit("login_email", email_key, self.limits.login_per_email)
        if req.client_address:
            await self._check_limit(
                "login_address", req.client_address, self.limits.login_per_address
            )
        contact = await self.contacts.active_member_by_email(req.account_id, req.portal_id, email)
        stored: str | None = None
        if contact is not None:
            stored = await self.auth.password_hash(req.portal_id, contact.contact_id)
        if not await self.hasher.verify(stored, req.password) or contact is None:
            now = self.clock()
            keep = now - self.limits.login_window
            await self.auth.record("login_email", email_key, now, keep)
            if req.client_address:
                await self.auth.record("login_address", req.client_address, now, keep)
            LOGINS.labels("failed").inc()
            raise Unauthorized("wrong email or password")
        await self.auth.clear("login_email", email_key)
        issued, session = self._new_session(req.account_id, req.portal_id, contact.contact_id)
        await self.auth.create_session(session)
        LOGINS.labels("ok").inc()
        return issued

    async def logout(self, req: mrpc.Logout) -> dict[str, Any]:
        ended = await self.auth.delete_session(secret_hash(req.session_id), req.portal_id)
        if ended is not None:
            await self.members.on_sessions_ended(ended[0], req.portal_id, ended[1])
        return {}

    async def resolve(self, req: mrpc.ResolveSession) -> mrpc.SessionView:
        id_hash = secret_hash(req.session_id)
        session = await self.auth.session(id_hash)
        now = self.clock()
        if (
            session is None
            or session.portal_id != req.portal_id
            or session.account_id != req.account_id
            or now >= session.idle_expires_at
            or now >= session.absolute_expires_at
        ):
            raise Unauthorized("no live session")
        idle = session.idle_expires_at
        if now - session.last_seen_at >= TOUCH_EVERY:
            idle = min(now + self.limits.session_idle, session.absolute_expires_at)
            await self.auth.touch_session(id_hash, now, idle)
        return mrpc.SessionView(
            contact_id=session.contact_id,
            csrf_token=session.csrf_token,
            idle_expires_at=idle,
            absolute_expires_at=session.absolute_expires_at,
        )

    def _new_session(
        self, account_id: str, portal_id: str, contact_id: str
    ) -> tuple[mrpc.SessionIssued, SessionRow]:
        now = self.clock()
        session_id, csrf = new_secret(), new_secret()
        absolute = now + self.limits.session_absolute
        idle = min(now + self.limits.session_idle, absolute)
        row = SessionRow(
            secret_hash(session_id),
            account_id,
            portal_id,
            contact_id,
            csrf,
            now,
            now,
            idle,
            absolute,
        )
        issued = mrpc.SessionIssued(
            session_id=session_id,
            csrf_token=csrf,
            contact_id=contact_id,
            idle_expires_at=idle,
            absolute_expires_at=absolute,
        )
        return issued, row

    async def _check_limit(self, bucket: str, key: str, limit: int) -> None:
        now = self.clock()
        count, oldest = await self.auth.recent(bucket, key, now - self.limits.login_window)
        if count >= limit and oldest is not None:
            retry = (oldest + self.limits.login_window - now).total_seconds()
            raise RateLimited(
                "too many attempts; try again later",
                retry_after_seconds=max(1, math.ceil(retry)),
            )

    async def _allow(self, bucket: str, key: str, limit: int, window: timedelta) -> bool:
        now = self.clock()
        count, _ = await self.auth.recent(bucket, key, now - window)
        if count >= limit:
            return False
        await self.auth.record(bucket, key, now, now - window)
        return True


def _usable(token: TokenRow | None, req: Any, purpose: str, now: datetime) -> bool:
    return (
        token is not None
        and token.purpose == purpose
        and token.portal_id == req.portal_id
        and token.account_id == req.account_id
        and token.used_at is None
        and now < token.expires_at
    )
