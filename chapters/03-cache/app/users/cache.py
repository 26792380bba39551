"""Cache-aside for user reads: Redis first, then PostgreSQL, once per user however many ask.

Redis is an optimisation here, never a dependency: any Redis error is logged and the read
goes to the database (fail open). If an invalidation is lost while Redis is down, the stale
entry lives at most one TTL.
"""

import asyncio
import logging
from uuid import UUID

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.redis_client import redis_key
from app.users.models import User
from app.users.schemas import UserRead

logger = logging.getLogger(__name__)

# TODO(cache.fail_open): every Redis call in this class (the GET, the SET, the DELETE) may
# raise redis.exceptions.RedisError when Redis is down or slow. Catch it around each call, log
# a warning with `logger`, and carry on as if the cache were empty: the database still answers.


class UserCache:
    """One per process (made in the lifespan): it owns the in-flight database loads."""

    def __init__(
        self,
        *,
        redis: Redis,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
    ) -> None:
        self._redis = redis
        self._sessionmaker = sessionmaker
        self._settings = settings
        # Single flight: concurrent misses for one user await the same load.
        self._loads: dict[UUID, asyncio.Task[UserRead | None]] = {}

    def key(self, user_id: UUID) -> str:
        return redis_key(self._settings, "user", user_id)

    async def get_user(self, user_id: UUID) -> UserRead | None:
        """The user from Redis, else from PostgreSQL (then cached); None if there is none."""
        # TODO(cache.aside): look in Redis first: GET self.key(user_id), and on a hit return
        # UserRead.model_validate_json(raw). Only a miss goes on to the database below.
        return await self._load_once(user_id)

    async def invalidate(self, user_id: UUID) -> None:
        """Drop the cached copy after a write (the next read reloads it)."""
        # TODO(cache.single_flight): first, before the DELETE awaits, forget the user's
        # in-flight load, if any: a load that read the row before this write must neither be
        # joined nor cache what it read (forgotten after the DELETE, it can still write its
        # old copy just after the DELETE lands).
        # TODO(cache.invalidation): DELETE the user's key.

    async def _load_once(self, user_id: UUID) -> UserRead | None:
        # TODO(cache.single_flight): concurrent misses for one user should share one load.
        # Keep one asyncio.Task per user in self._loads (made with asyncio.create_task), drop
        # it when it is done (add_done_callback; only if it is still the one registered, as
        # invalidate may have replaced it), and await it through asyncio.shield, so a caller
        # that goes away does not cancel the load the others wait for.
        return await self._load_and_cache(user_id)

    async def _load_and_cache(self, user_id: UUID) -> UserRead | None:
        # A session of its own: one load may serve many requests, so it cannot borrow theirs.
        async with self._sessionmaker() as session:
            row = await session.get(User, user_id)
            user = None if row is None else UserRead.model_validate(row)
        # TODO(cache.single_flight): cache it only if this load is still the registered one
        # (self._loads[user_id] is asyncio.current_task()): invalidate() forgets stale loads.
        if user is not None:
            await self._write(user)
        return user

    async def _write(self, user: UserRead) -> None:
        # TODO(cache.aside): SET self.key(user.id) to user.model_dump_json(), expiring after
        # user_cache_ttl_seconds plus a random 0..user_cache_ttl_jitter_seconds seconds.
        pass
