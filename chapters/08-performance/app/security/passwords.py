"""Password hashing with argon2 (pwdlib), off the event loop, in a bounded thread pool.

One argon2 verify costs about 130 ms of one core with the default parameters (64 MiB, three
passes, one lane). Run on the event loop it would stall every other request; run in an
unbounded pool a burst of logins would take every core. A pool of about one thread per core
makes the burst queue instead, and its threads run at a low scheduling priority: when a core
is wanted both by a hash and by an event loop serving reads, the reads go first.
"""

import asyncio
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar, TypeVarTuple

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.config import Settings

Args = TypeVarTuple("Args")
Result = TypeVar("Result")

# The hashing threads' niceness (Linux: 0 is normal, 19 the lowest priority). High enough
# that an event loop gets about nine tenths of a core it shares with a hash, low enough that
# a login still moves on a machine busy with reads.
HASHING_NICENESS = 10


def lower_this_threads_priority() -> None:
    """Run by each hashing thread as it starts: lower its own CPU priority, not the process's.

    On Linux a thread id names one thread to setpriority. Elsewhere (or where refused) the
    thread keeps the normal priority: hashing stays correct, only less polite.
    """
    if not hasattr(os, "setpriority"):
        return
    thread_id = threading.get_native_id()
    try:
        # Never raise it back: a server started under `nice` stays at least that nice.
        niceness = max(os.getpriority(os.PRIO_PROCESS, thread_id), HASHING_NICENESS)
        os.setpriority(os.PRIO_PROCESS, thread_id, niceness)
    except OSError:
        pass


class PasswordHasher:
    """Hash and verify passwords; one per process, made in the lifespan."""

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
        self._pool = ThreadPoolExecutor(
            max_workers=settings.password_hash_workers,
            thread_name_prefix="argon2",
            initializer=lower_this_threads_priority,
        )
        self._dummy_hash: str | None = None

    async def _in_pool(self, function: Callable[[*Args], Result], *args: *Args) -> Result:
        # argon2 releases the GIL, so these threads really run in parallel with the loop.
        return await asyncio.get_running_loop().run_in_executor(self._pool, function, *args)

    async def hash(self, password: str) -> str:
        return await self._in_pool(self._password_hash.hash, password)

    async def verify(self, password: str, hashed: str) -> bool:
        return await self._in_pool(self._password_hash.verify, password, hashed)

    async def verify_and_update(self, password: str, hashed: str) -> tuple[bool, str | None]:
        """(matches, new hash when the stored one was made with other parameters)."""
        return await self._in_pool(self._password_hash.verify_and_update, password, hashed)

    async def prepare(self) -> str:
        """Make the hash that unknown emails are checked against (see `verify_nothing`)."""
        self._dummy_hash = await self.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    async def verify_nothing(self, password: str) -> None:
        """Spend a real verify's work for an unknown email: timing must not reveal accounts."""
        dummy_hash = self._dummy_hash or await self.prepare()
        await self._in_pool(self._password_hash.verify, password, dummy_hash)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
