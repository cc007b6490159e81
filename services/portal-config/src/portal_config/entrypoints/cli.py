"""Operator CLI. `ensure-account` talks to the database directly (the service need not run):

    python -m portal_config ensure-account --name NAME [--api-key KEY]

prints `{"account": {"id", "name"}, "api_key": <new key or null>}` as JSON.
"""

from __future__ import annotations

import argparse
import json

from portal_contracts.config_rpc import EnsureAccount
from pydantic import ValidationError

from ..adapters.accounts import PgAccountStore
from ..adapters.db import create_schema, open_pool
from ..application.accounts import AccountService
from ..domain.errors import Refusal
from ..settings import Settings


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m portal_config")
    sub = p.add_subparsers(dest="command")
    sub.add_parser("run", help="run the service until SIGINT/SIGTERM (the default)")
    ensure = sub.add_parser("ensure-account", help="create an account if missing")
    ensure.add_argument("--name", required=True)
    ensure.add_argument("--api-key", default=None)
    return p


async def ensure_account(settings: Settings, name: str, api_key: str | None) -> int:
    try:
        request = EnsureAccount(name=name, api_key=api_key)
    except ValidationError as exc:
        print(json.dumps({"error": {"code": "validation_error", "message": str(exc)}}))
        return 2
    pool = await open_pool(settings.database_url, max_size=2)
    try:
        await create_schema(pool)
        result = await AccountService(PgAccountStore(pool)).ensure(request)
    except Refusal as exc:
        print(json.dumps({"error": {"code": exc.code, "message": exc.message}}))
        return 1
    finally:
        await pool.close()
    print(json.dumps(result))
    return 0
