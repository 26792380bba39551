"""Cache-aside for user reads: Redis first, then PostgreSQL, once per key however many ask.

Redis is an optimisation here, never a dependency: any Redis error is logged and the read
goes to the database (fail open). A stale entry lives at most one TTL if an invalidation
was lost while Redis was down.
"""

import logging
import random
from uuid import UUID

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.redis_client import redis_key
from app.single_flight import SingleFlight
from app.users.exceptions import UserNotFound
from app.users.models import User
from app.users.schemas import UserRead

logger = logging.getLogger(__name__)


class UserCache:
    """Cache-aside reads of users. Cheap to make (one per request); what it shares between
    requests, the Redis client, the sessionmaker and the in-flight loads, belongs to the
    process.
    """

    def __init__(
        self,
        *,
        redis: Redis,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        flights: SingleFlight,
    ) -> None:
        self._redis = redis
        self._sessionmaker = sessionmaker
        self._settings = settings
        self._flights = flights

    def key(self, user_id: UUID) -> str:
        return redis_key(self._settings, "user", user_id)

    @property
    def enabled(self) -> bool:
        return self._settings.cache_enabled

    async def get_user(self, user_id: UUID) -> UserRead:
        """The user from Redis, else from PostgreSQL (then cached). Raises UserNotFound."""
        if self.enabled and (cached := await self._read(user_id)):
            return cached
        # Concurrent misses for one user await the same load (see app/single_flight.py).
        user = await (
            self._flights.run(("user", user_id), lambda: self._load_and_cache(user_id))
            if self.enabled
            else self._from_database(user_id)
        )
        if user is None:
            raise UserNotFound(user_id)
        return user

    async def invalidate(self, user_id: UUID) -> None:
        """Drop the cached copy after a write (the next read reloads it)."""
        # A load that started before the write must neither be joined nor cache what it read.
        self._flights.forget(("user", user_id))
        try:
            await self._redis.delete(self.key(user_id))
        except RedisError:
            logger.warning("user cache invalidation failed; the entry expires with its TTL")

    async def _read(self, user_id: UUID) -> UserRead | None:
        try:
            raw = await self._redis.get(self.key(user_id))
        except RedisError:
            logger.warning("user cache unavailable; reading from the database")
            return None
        return None if raw is None else UserRead.model_validate_json(raw)

    async def _from_database(self, user_id: UUID) -> UserRead | None:
        # A session of its own: a load may serve many requests, none of which owns it.
        async with self._sessionmaker() as session:
            user = await session.get(User, user_id)
            return None if user is None else UserRead.model_validate(user)

    async def _load_and_cache(self, user_id: UUID) -> UserRead | None:
        user = await self._from_database(user_id)
        if user is not None and self._flights.is_current(("user", user_id)):
            await self._write(user)
        return user

    async def _write(self, user: UserRead) -> None:
        # Jitter spreads expiries, so entries written together do not all miss together.
        ttl = self._settings.user_cache_ttl_seconds + random.randint(
            0, self._settings.user_cache_ttl_jitter_seconds
        )
        try:
            await self._redis.set(self.key(user.id), user.model_dump_json(), ex=ttl)
        except RedisError:
            logger.warning("user cache write failed; serving from the database")
