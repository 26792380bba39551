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
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._password_hash.hash, password)

    async def verify(self, password: str, hashed: str) -> bool:
        return await asyncio.to_thread(self._password_hash.verify, password, hashed)

    async def verify_and_update(self, password: str, hashed: str) -> tuple[bool, str | None]:
        """(matches, new hash when the stored one was made with other parameters)."""
        return await asyncio.to_thread(self._password_hash.verify_and_update, password, hashed)

    async def prepare(self) -> None:
        """Make the hash that unknown emails are checked against (see `verify_nothing`)."""
        self._dummy_hash = await self.hash(secrets.token_urlsafe(16))

    async def verify_nothing(self, password: str) -> None:
        """Spend a real verify's work for an unknown email: timing must not reveal accounts."""
        if self._dummy_hash is None:
            await self.prepare()
        await self.verify(password, self._dummy_hash)
