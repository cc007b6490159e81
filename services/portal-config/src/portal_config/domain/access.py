"""Who may become a member: access groups (invite mode) and self-registration (open mode).

Rules:
- A contact is in an access group when its id is among the group's `contact_ids`, or when
  its properties — merged with email, firstname, lastname, language and primary_company_id —
  match the group's `contact_filters` (OR of AND-groups). A deleted contact is in no group.
- Access-group invitations are automatic only for an active invite-mode portal, and never on
  a system domain (admins invite explicitly there).
- Open mode: any known contact may self-register; when the portal lists allowed email
  domains, the email's domain must be one of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from portal_contracts.filters import groups_match
from portal_contracts.portal import Access

STANDARD_FIELDS = ("email", "firstname", "lastname", "language", "primary_company_id")


@dataclass(frozen=True)
class Contact:
    account_id: str
    contact_id: str
    email: str
    properties: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False


def in_access_groups(access: Access, contact: Contact) -> bool:
    if contact.deleted or access.mode != "invite":
        return False
    for group in access.access_groups:
        if group.contact_ids and contact.contact_id in group.contact_ids:
            return True
        if (
            group.contact_filters
            and groups_match(group.contact_filters, contact.properties) is not None
        ):
            return True
    return False


def email_domain_allowed(access: Access, email: str) -> bool:
    if not access.allowed_email_domains:
        return True
    domain = email.rsplit("@", 1)[-1].lower()
    return domain in access.allowed_email_domains
