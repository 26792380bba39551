"""Cache-aside for user reads: Redis first, then PostgreSQL, once per key however many ask.

Redis is an optimisation here, never a dependency: any Redis error is logged and the read
goes to the database (fail open). A stale entry lives at most one TTL if an invalidation
was lost while Redis was down.
"""

import logging
from uuid import UUID

from redis.asyncio import Redis
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
        # TODO(cache.invalidation): after a write, no read may answer the old user. Drop the
        # user's entry, so the next read loads the new row (simpler and safer than writing the
        # new value, which two racing writers could leave in the wrong order). And first, before
        # anything here awaits, forget the user's load in flight (self._flights): a load that
        # began before the write read the old row, so later reads must not join it, and it must
        # not cache what it read (_load_and_cache asks is_current).
        # TODO(cache.fail_open): a DELETE that fails is logged as a warning, and the write
        # that called it still succeeds: the database changed, and the stale entry expires
        # with its TTL.

    async def _read(self, user_id: UUID) -> UserRead | None:
        """The cached user, or None on a miss."""
        # TODO(cache.aside): look for the user in Redis under its key, and answer the cached
        # copy as a UserRead, or None when there is none (a miss: get_user then loads the
        # row from PostgreSQL and _write stores it).
        # TODO(cache.fail_open): Redis is an optimisation here, never a dependency: when it
        # refuses connections or does not answer in time, say so in the log (an operator
        # must learn that the cache is down) and carry on as on a miss. Only Redis's own
        # failures: anything else is a bug, or a database outage that must stay an error.
        return None

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
        """Store a user just loaded from the database."""
        # TODO(cache.aside): store the user under its key as JSON text, so that it expires
        # after user_cache_ttl_seconds plus a random 0..user_cache_ttl_jitter_seconds: a TTL
        # bounds how long an entry changed behind the service's back lives, and the jitter
        # keeps entries written together (after a deploy, a cold start) from all expiring,
        # and all missing, at the same moment.
        # TODO(cache.fail_open): a write that fails is logged as a warning, and the read
        # still answers the user it loaded.
