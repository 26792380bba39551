"""Password hashing with argon2 (pwdlib), off the event loop.

One argon2 hash or verify costs tens of milliseconds of CPU, on purpose: on the event loop it
would stall every other request, so it runs in a worker thread (argon2 releases the GIL).
"""

import asyncio
import secrets

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.config import Settings


class PasswordHasher:
    """Hash and verify passwords; one per process, made in the lifespan from the settings."""

    def __init__(self, settings: Settings) -> None:
        self._password_hash = PasswordHash(
            (
                Argon2Hasher(
                    time_cost=settings.password_hash_time_cost,
                    memory_cost=settings.password_hash_memory_cost_kib,
                    parallelism=settings.password_hash_parallelism,
                ),
            )
        )
        # Made once at start-up: an unknown email is checked against it (see verify_nothing).
        self._dummy_hash = self._password_hash.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._password_hash.hash, password)

    async def verify(self, password: str, hashed: str) -> bool:
        return await asyncio.to_thread(self._password_hash.verify, password, hashed)

    async def verify_nothing(self, password: str) -> None:
        """Spend a real verify's work for an unknown email: timing must not reveal accounts."""
        await self.verify(password, self._dummy_hash)
