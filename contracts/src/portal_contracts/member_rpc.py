"""Request/reply of customer access, served by portal-config (`<ns>.rpc.portal-config.<op>`).

portal-config owns members, credentials and sessions; the gateway holds no state. Secrets
(passwords, tokens, session ids) travel only inside these request/reply messages on the
internal bus, never in events or streams; portal-config stores only their hashes (session
ids and tokens: SHA-256; passwords: argon2id).

Enumeration safety: `member.register` and `member.request_password_reset` answer ok whatever
the email; `member.login` answers the same `unauthorized` for an unknown email and a wrong
password, after comparable work.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import Frozen, Identifier, UtcDatetime

MemberStatus = Literal["invited", "active", "revoked"]
Secret = Annotated[str, Field(min_length=16, max_length=200)]
Password = Annotated[str, Field(max_length=4096)]
"""Length rules (8..128) are business rules answered with `validation_error`, not parsing."""
EmailInput = Annotated[str, Field(min_length=1, max_length=320)]
ClientAddress = Annotated[str, Field(max_length=64)]


class _PortalScoped(Frozen):
    account_id: Identifier
    portal_id: Identifier


# --- admin ---------------------------------------------------------------------------------


class InviteMember(_PortalScoped):
    """Explicit invitation (admin). → MemberView. The contact must be known in the account's
    CRM data (`not_found` otherwise); an active member → `conflict`; an invited one is invited
    again (a new email). Sends even on a system domain."""

    op: Literal["member.invite"] = "member.invite"
    contact_id: Identifier


class ListMembers(_PortalScoped):
    """→ {items: [MemberView]}."""

    op: Literal["member.list"] = "member.list"


class RevokeMember(_PortalScoped):
    """→ {} ; every session of the member ends at once. Unknown member → `not_found`."""

    op: Literal["member.revoke"] = "member.revoke"
    contact_id: Identifier


class MemberView(Frozen):
    contact_id: str
    status: MemberStatus
    invited_at: UtcDatetime | None = None
    activated_at: UtcDatetime | None = None
    revoked_at: UtcDatetime | None = None


# --- customer ------------------------------------------------------------------------------


class Register(_PortalScoped):
    """Open mode self-registration. → {} always, whether or not an email leaves."""

    op: Literal["member.register"] = "member.register"
    email: EmailInput
    client_address: ClientAddress | None = None


class Activate(_PortalScoped):
    """Token from the registration email + a new password. → SessionIssued.
    Bad, used, expired or foreign token → `bad_request`; password rules → `validation_error`."""

    op: Literal["member.activate"] = "member.activate"
    token: Annotated[str, Field(max_length=500)]
    password: Password
    client_address: ClientAddress | None = None
    user_agent: Annotated[str, Field(max_length=500)] | None = None


class Login(_PortalScoped):
    """→ SessionIssued; wrong email or password → `unauthorized` (one body for both);
    too many tries per portal+email or per client address → `rate_limited` with
    `details.retry_after_seconds` (a window, never a permanent lock-out)."""

    op: Literal["member.login"] = "member.login"
    email: EmailInput
    password: Password
    client_address: ClientAddress | None = None
    user_agent: Annotated[str, Field(max_length=500)] | None = None


class Logout(_PortalScoped):
    """→ {} ; the session is dead server-side (idempotent)."""

    op: Literal["member.logout"] = "member.logout"
    session_id: Annotated[str, Field(max_length=500)]


class RequestPasswordReset(_PortalScoped):
    """→ {} always; an active member gets a reset email (rate limited per email)."""

    op: Literal["member.request_password_reset"] = "member.request_password_reset"
    email: EmailInput
    client_address: ClientAddress | None = None


class ConfirmPasswordReset(_PortalScoped):
    """→ SessionIssued (the member is logged in); every other session of the member ends.
    Bad/used/expired token → `bad_request`; password rules → `validation_error`."""

    op: Literal["member.confirm_password_reset"] = "member.confirm_password_reset"
    token: Annotated[str, Field(max_length=500)]
    password: Password
    client_address: ClientAddress | None = None
    user_agent: Annotated[str, Field(max_length=500)] | None = None


class ResolveSession(_PortalScoped):
    """→ SessionView of a live session of THIS portal (touching its idle expiry), else
    `unauthorized`. A session of another portal is worthless here."""

    op: Literal["session.resolve"] = "session.resolve"
    session_id: Annotated[str, Field(max_length=500)]


class SessionIssued(Frozen):
    """A new session: `session_id` goes into the cookie, `csrf_token` to the client."""

    session_id: Secret
    csrf_token: Secret
    contact_id: str
    idle_expires_at: UtcDatetime
    absolute_expires_at: UtcDatetime


class SessionView(Frozen):
    contact_id: str
    csrf_token: str
    idle_expires_at: UtcDatetime
    absolute_expires_at: UtcDatetime


class SessionsEnded(_PortalScoped):
    """Broadcast by portal-config on `Namespace.sessions_ended` (core NATS, no stream) once
    sessions of a member ended (logout, password set, revocation): every gateway forgets the
    member's sessions it remembers. Carries no secret: not even a hash of the session."""

    contact_id: str


MemberRequest = Annotated[
    InviteMember
    | ListMembers
    | RevokeMember
    | Register
    | Activate
    | Login
    | Logout
    | RequestPasswordReset
    | ConfirmPasswordReset
    | ResolveSession,
    Field(discriminator="op"),
]
