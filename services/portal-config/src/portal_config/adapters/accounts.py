"""Accounts, hashed admin API keys, connected domains and inboxes (state tables)."""

from __future__ import annotations

from portal_contracts.config_rpc import AccountView, DomainView, InboxView
from psycopg import errors
from psycopg_pool import AsyncConnectionPool

from ..domain.commands import ConnectedDomain
from ..domain.errors import Conflict


class PgAccountStore:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def ensure_account(
        self, name: str, new_id: str, key_hash: str | None, generated_key_hash: str
    ) -> tuple[AccountView, bool]:
        """Creates the account if missing and attaches `key_hash` (or, for a new account
        without one, `generated_key_hash`) in one transaction. Returns (account, created)."""
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "INSERT INTO accounts (id, name) VALUES (%s, %s)"
                " ON CONFLICT (name) DO NOTHING RETURNING id",
                (new_id, name),
            )
            created = await cur.fetchone() is not None
            cur = await conn.execute("SELECT id, name FROM accounts WHERE name = %s", (name,))
            row = await cur.fetchone()
            assert row is not None
            account = AccountView(id=row[0], name=row[1])
            attach = key_hash or (generated_key_hash if created else None)
            if attach:
                await conn.execute(
                    "INSERT INTO api_keys (key_hash, account_id) VALUES (%s, %s)"
                    " ON CONFLICT (key_hash) DO NOTHING",
                    (attach, account.id),
                )
                cur = await conn.execute(
                    "SELECT account_id FROM api_keys WHERE key_hash = %s", (attach,)
                )
                owner = await cur.fetchone()
                if owner is None or owner[0] != account.id:
                    raise Conflict("this API key belongs to another account")
            return account, created

    async def account_by_key_hash(self, key_hash: str) -> AccountView | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT a.id, a.name FROM api_keys k JOIN accounts a ON a.id = k.account_id"
                " WHERE k.key_hash = %s",
                (key_hash,),
            )
            row = await cur.fetchone()
        return AccountView(id=row[0], name=row[1]) if row else None

    async def get_account(self, account_id: str) -> AccountView | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT id, name FROM accounts WHERE id = %s", (account_id,))
            row = await cur.fetchone()
        return AccountView(id=row[0], name=row[1]) if row else None

    async def add_domain(self, account_id: str, domain: DomainView) -> None:
        """A non-system domain belongs to at most one account; a system domain may be shared
        by several accounts (slugs keep their portals apart), but never with an account that
        connected it as its own. A per-domain advisory lock serialises concurrent claims."""
        try:
            async with self.pool.connection() as conn, conn.transaction():
                await conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtext('domain:' || %s))", (domain.domain,)
                )
                cur = await conn.execute(
                    "SELECT bool_and(system) FROM domains WHERE domain = %s AND account_id <> %s",
                    (domain.domain, account_id),
                )
                row = await cur.fetchone()
                others_all_system = row[0] if row else None
                if others_all_system is not None and not (domain.system and others_all_system):
                    raise Conflict(
                        f"the domain '{domain.domain}' is connected to another account",
                        domain=domain.domain,
                    )
                await conn.execute(
                    "INSERT INTO domains (account_id, domain, primary_language, system)"
                    " VALUES (%s, %s, %s, %s)",
                    (account_id, domain.domain, domain.primary_language, domain.system),
                )
        except errors.UniqueViolation as exc:
            raise Conflict(
                f"the domain '{domain.domain}' is already connected", domain=domain.domain
            ) from exc

    async def list_domains(self, account_id: str) -> list[DomainView]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT domain, primary_language, system FROM domains WHERE account_id = %s"
                " ORDER BY created_at, domain",
                (account_id,),
            )
            rows = await cur.fetchall()
        return [DomainView(domain=r[0], primary_language=r[1], system=r[2]) for r in rows]

    async def get_domain(self, account_id: str, domain: str) -> ConnectedDomain | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT domain, primary_language, system FROM domains"
                " WHERE account_id = %s AND domain = %s",
                (account_id, domain),
            )
            row = await cur.fetchone()
        return (
            ConnectedDomain(domain=row[0], primary_language=row[1], system=row[2]) if row else None
        )

    async def create_inbox(self, account_id: str, inbox: InboxView) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO inboxes (id, account_id, name, kind) VALUES (%s, %s, %s, %s)",
                (inbox.id, account_id, inbox.name, inbox.kind),
            )

    async def list_inboxes(self, account_id: str) -> list[InboxView]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT id, name, kind FROM inboxes WHERE account_id = %s ORDER BY created_at, id",
                (account_id,),
            )
            rows = await cur.fetchall()
        return [InboxView(id=r[0], name=r[1], kind=r[2]) for r in rows]

    async def inbox_exists(self, account_id: str, inbox_id: str) -> bool:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT 1 FROM inboxes WHERE account_id = %s AND id = %s", (account_id, inbox_id)
            )
            return await cur.fetchone() is not None
