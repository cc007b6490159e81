"""Password rules and hashing.

Rules: 8 to 128 characters; not one of the common passwords of zxcvbn's frequency list
(case-insensitive); not the member's email nor its local part. Stored as argon2id
(memory ≥ 19 MiB, time cost ≥ 2), hashed in a worker thread so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from ..domain.errors import InvalidInput

MIN_LENGTH = 8
MAX_LENGTH = 128


@functools.cache
def common_passwords() -> frozenset[str]:
    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def check_password(password: str, email: str | None) -> None:
    """Raises `InvalidInput` (validation_error) naming the broken rule."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(
            f"the password needs at least {MIN_LENGTH} characters", reason="too_short"
        )
    if len(password) > MAX_LENGTH:
        raise InvalidInput(
            f"the password may have at most {MAX_LENGTH} characters", reason="too_long"
        )
    lowered = password.lower()
    if lowered in common_passwords():
        raise InvalidInput("this password is too common", reason="common")
    if email:
        email = email.lower()
        if lowered in (email, email.split("@", 1)[0]):
            raise InvalidInput("the password must not be your email", reason="email")


class Hasher:
    def __init__(self, memory_cost: int = 19456, time_cost: int = 2, parallelism: int = 1):
        self._hasher = PasswordHasher(
            time_cost=max(time_cost, 2),
            memory_cost=max(memory_cost, 19456),
            parallelism=parallelism,
        )
        self._dummy = self._hasher.hash("dummy password for unknown emails")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Verifies against a dummy hash when there is none, so that an unknown email costs
        the same as a wrong password."""
        target = password_hash or self._dummy
        try:
            ok = await asyncio.to_thread(self._hasher.verify, target, password)
        except (VerificationError, InvalidHashError):
            return False
        return bool(ok) and password_hash is not None
