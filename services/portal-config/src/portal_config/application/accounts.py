"""Use cases for accounts, admin API keys, connected domains and inboxes.

Rules:
- Admin API keys are `pk_` + 43 URL-safe characters (256 bits); only their SHA-256 is stored
  and a key is resolved by looking its hash up.
- `account.ensure` is idempotent by name. A given key is attached if not yet attached; a new
  account without a given key gets a generated one, returned exactly once.
- Every domain and inbox belongs to one account; a domain is connected once per account.
  A non-system domain belongs to one account only; a system domain may be shared.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any

from portal_contracts import config_rpc as rpc

from ..domain.errors import NotFound, Unauthorized
from .ports import AccountStore


def generate_api_key() -> str:
    return "pk_" + secrets.token_urlsafe(32)


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


class AccountService:
    def __init__(self, store: AccountStore) -> None:
        self.store = store

    async def ensure(self, req: rpc.EnsureAccount) -> dict[str, Any]:
        generated = generate_api_key()
        given = hash_api_key(req.api_key) if req.api_key else None
        account, created = await self.store.ensure_account(
            req.name, uuid.uuid4().hex, given, hash_api_key(generated)
        )
        returned = generated if created and given is None else None
        return {"account": account.model_dump(mode="json"), "api_key": returned}

    async def resolve_key(self, req: rpc.ResolveApiKey) -> rpc.AccountView:
        account = await self.store.account_by_key_hash(hash_api_key(req.api_key))
        if account is None:
            raise Unauthorized("invalid API key")
        return account

    async def get(self, account_id: str) -> rpc.AccountView:
        account = await self.store.get_account(account_id)
        if account is None:
            raise NotFound("no such account")
        return account

    async def add_domain(self, req: rpc.AddDomain) -> rpc.DomainView:
        await self.get(req.account_id)
        view = rpc.DomainView(
            domain=req.domain, primary_language=req.primary_language, system=req.system
        )
        await self.store.add_domain(req.account_id, view)
        return view

    async def list_domains(self, req: rpc.ListDomains) -> dict[str, Any]:
        await self.get(req.account_id)
        items = await self.store.list_domains(req.account_id)
        return {"items": [d.model_dump(mode="json") for d in items]}

    async def create_inbox(self, req: rpc.CreateInbox) -> rpc.InboxView:
        await self.get(req.account_id)
        view = rpc.InboxView(id=uuid.uuid4().hex, name=req.name, kind=req.kind)
        await self.store.create_inbox(req.account_id, view)
        return view

    async def list_inboxes(self, req: rpc.ListInboxes) -> dict[str, Any]:
        await self.get(req.account_id)
        items = await self.store.list_inboxes(req.account_id)
        return {"items": [i.model_dump(mode="json") for i in items]}
