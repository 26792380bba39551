"""Cache-aside for user reads: Redis first, then PostgreSQL, once per user however many ask.

Redis is an optimisation here, never a dependency: any Redis error is logged and the read
goes to the database (fail open). If an invalidation is lost while Redis is down, the stale
entry lives at most one TTL.
"""

import asyncio
import logging
import random
from uuid import UUID

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.redis_client import redis_key
from app.users.exceptions import UserNotFound
from app.users.models import User
from app.users.schemas import UserRead

logger = logging.getLogger(__name__)


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

    async def get_user(self, user_id: UUID) -> UserRead:
        """The user from Redis, else from PostgreSQL (then cached). Raises UserNotFound."""
        if cached := await self._read(user_id):
            return cached
        user = await self._load_once(user_id)
        if user is None:
            raise UserNotFound(user_id)
        return user

    async def invalidate(self, user_id: UUID) -> None:
        """Drop the cached copy after a write (the next read reloads it)."""
        # A load that started before the write must neither be joined nor cache what it read.
        self._loads.pop(user_id, None)
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

    async def _load_once(self, user_id: UUID) -> UserRead | None:
        load = self._loads.get(user_id)
        if load is None:
            load = asyncio.create_task(self._load_and_cache(user_id))
            self._loads[user_id] = load
            load.add_done_callback(lambda done: self._forget_load(user_id, done))
        # shield: a caller that gives up (client gone) must not cancel the others' load.
        return await asyncio.shield(load)

    def _forget_load(self, user_id: UUID, load: asyncio.Task[UserRead | None]) -> None:
        if self._loads.get(user_id) is load:
            del self._loads[user_id]

    async def _load_and_cache(self, user_id: UUID) -> UserRead | None:
        # A session of its own: one load may serve many requests, so it cannot borrow theirs.
        async with self._sessionmaker() as session:
            row = await session.get(User, user_id)
            user = None if row is None else UserRead.model_validate(row)
        # Cache it only if no write invalidated it meanwhile (invalidate forgets the load).
        if user is not None and self._loads.get(user_id) is asyncio.current_task():
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
