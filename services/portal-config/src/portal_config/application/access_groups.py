"""Access groups evaluated against contacts: automatic invitations and their cancellation.

Rules:
- A contact that comes to be in an access group of an ACTIVE invite-mode portal is invited
  (`member.invited`, reason access_group, send_after = now + the portal's
  registration_email_delay_seconds) — unless the portal is on a system domain, where
  group membership alone sends nothing.
- A contact that leaves the group, or is deleted, before its invitation's send_after gets
  `member.invitation_cancelled` (a deleted contact's explicit invitation too).
- Activating a portal or changing its access configuration evaluates every known contact
  of the account against it.
- Everything here is idempotent: evaluating the same state again appends nothing.
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from ..adapters.contacts import PgContactStore
from ..domain import member as m
from ..domain.access import Contact, in_access_groups
from ..domain.portal import PortalState
from .members import MemberService
from .ports import AccountStore, Clock, PortalStore

log = structlog.get_logger("portal_config.access_groups")


class AccessGroups:
    def __init__(
        self,
        members: MemberService,
        portals: PortalStore,
        accounts: AccountStore,
        contacts: PgContactStore,
        clock: Clock,
    ) -> None:
        self.members = members
        self.portals = portals
        self.accounts = accounts
        self.contacts = contacts
        self.clock = clock

    async def _automatic(self, portal: PortalState) -> bool:
        """Do access groups of this portal send invitations by themselves?"""
        if portal.status != "active" or portal.access is None or portal.access.mode != "invite":
            return False
        if portal.domain is None:
            return False
        domain = await self.accounts.get_domain(portal.account_id, portal.domain)
        return domain is not None and not domain.system

    async def evaluate_contacts(self, contacts: list[Contact]) -> None:
        """A contact whose evaluation fails is logged and stays flagged for the sweep."""
        by_account: dict[str, list[Contact]] = {}
        for contact in contacts:
            by_account.setdefault(contact.account_id, []).append(contact)
        for account_id, group in by_account.items():
            with structlog.contextvars.bound_contextvars(account_id=account_id):
                await self._evaluate_group(account_id, group)

    async def _evaluate_group(self, account_id: str, group: list[Contact]) -> None:
        portals = [
            (portal, await self._automatic(portal))
            for portal in await self.portals.list_for_account(account_id)
            if portal.access is not None and portal.access.mode == "invite"
        ]
        done = []
        for contact in group:
            try:
                for portal, automatic in portals:
                    await self._evaluate(portal, contact, automatic)
            except Exception:
                log.exception(
                    "access_group_evaluation_failed",
                    account_id=account_id,
                    contact_id=contact.contact_id,
                )
                continue
            done.append(contact)
        await self.contacts.evaluated(done)

    async def evaluate_portal(self, account_id: str, portal_id: str) -> None:
        portal = await self.portals.get(account_id, portal_id)
        if portal is None or portal.access is None or portal.access.mode != "invite":
            return
        automatic = await self._automatic(portal)
        contacts = await self.contacts.live_contacts(account_id)
        for contact in contacts:
            await self._evaluate(portal, contact, automatic)
        known = {c.contact_id for c in contacts}
        for state in await self.members.members.pending_invitations(account_id, portal_id):
            if state.contact_id not in known:
                gone = await self.contacts.get(account_id, state.contact_id)
                if gone is not None:
                    await self._evaluate(portal, gone, automatic)
        log.info("access_groups_evaluated", portal_id=portal_id, contacts=len(contacts))

    async def _evaluate(self, portal: PortalState, contact: Contact, automatic: bool) -> None:
        assert portal.access is not None
        now = self.clock()
        if automatic and in_access_groups(portal.access, contact):
            delay = timedelta(seconds=portal.access.registration_email_delay_seconds)
            command: m.MemberCommand = m.Invite("access_group", now + delay)
        elif not in_access_groups(portal.access, contact):
            command = m.CancelInvitation(contact_deleted=contact.deleted)
        else:
            return
        await self.members.execute(
            portal.account_id, portal.id, contact.contact_id, lambda _s: command
        )
