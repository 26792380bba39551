"""Password hashing with argon2 (pwdlib), off the event loop.

One argon2 hash or verify costs tens of milliseconds of CPU, on purpose: on the event loop it
would stall every other request, so it runs in a worker thread (argon2 releases the GIL).
"""

import secrets

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.config import Settings

# What the starter stores until `hash` is written: no password, and no password matches it.
NOT_HASHED_YET = "not-hashed-yet"


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

    # TODO(auth.passwords): the four methods below. Each answers what its docstring says,
    # with pwdlib's PasswordHash in self._password_hash, which holds the argon2 parameters of
    # the settings. Every call costs tens of milliseconds of CPU on purpose, and the event
    # loop must keep serving the other requests meanwhile. verify_nothing exists for logins
    # whose email has no account: they must cost what a wrong password costs.

    async def hash(self, password: str) -> str:
        """An argon2id hash of the password: salted, with its parameters written in it."""
        return NOT_HASHED_YET

    async def verify(self, password: str, hashed: str) -> bool:
        """Whether the password is the one the hash was made of."""
        return False

    async def verify_and_update(self, password: str, hashed: str) -> tuple[bool, str | None]:
        """(matches, new hash when the stored one was made with other parameters)."""
        return False, None

    async def prepare(self) -> None:
        """Make the hash that unknown emails are checked against (see `verify_nothing`)."""
        self._dummy_hash = await self.hash(secrets.token_urlsafe(16))

    async def verify_nothing(self, password: str) -> None:
        """Spend a real verify's work for an unknown email: timing must not reveal accounts."""
