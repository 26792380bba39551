"""Cache-aside for user reads: Redis first, then PostgreSQL, once per key however many ask.

Redis is an optimisation here, never a dependency: any Redis error is logged and the read
goes to the database (fail open). A stale entry lives at most one TTL if an invalidation
was lost while Redis was down.
"""

import hashlib
import json
import logging
import random
from typing import cast
from uuid import UUID

from prometheus_client import Counter
from pydantic import BaseModel
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import bindparam, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.redis_client import redis_key
from app.single_flight import SingleFlight
from app.users.exceptions import UserNotFound
from app.users.models import User
from app.users.schemas import UserRead

logger = logging.getLogger(__name__)


def entry_format(model: type[BaseModel]) -> str:
    """A short fingerprint of the JSON a cached entry holds (the model's schema).

    A cache hit is sent to the client as stored, unvalidated: after a release that changes
    UserRead, entries in the old shape must not be served. The fingerprint is part of the
    key, so a new shape reads new keys and old entries die with their TTL. (While two
    versions run side by side in a rolling deploy, a write invalidates only its own
    version's key: the other's entry may be stale for at most one TTL.)
    """
    schema = json.dumps(model.model_json_schema(), sort_keys=True).encode()
    return hashlib.sha256(schema).hexdigest()[:8]


USER_ENTRY = f"user.{entry_format(UserRead)}"

CACHE_LOOKUPS = Counter(
    "cache_lookups_total", "Cache lookups by result: hit, miss or error.", ["cache", "result"]
)
# Bound once: looking a labelled child up on every read is wasted work on the hot path.
CACHE_HITS = CACHE_LOOKUPS.labels("user", "hit")
CACHE_MISSES = CACHE_LOOKUPS.labels("user", "miss")
CACHE_ERRORS = CACHE_LOOKUPS.labels("user", "error")


# The statement of a cache load, built once: one row by primary key.
SELECT_USER = select(User).where(User.id == bindparam("user_id"))


class UserCache:
    """Cache-aside reads of users. Cheap to make (one per request); what it shares between
    requests, the Redis client, the read pool and the in-flight loads, belongs to the process.
    """

    def __init__(
        self, *, redis: Redis, engine: AsyncEngine, settings: Settings, flights: SingleFlight
    ) -> None:
        self._redis = redis
        self._engine = engine
        self._settings = settings
        self._flights = flights

    def key(self, user_id: UUID) -> str:
        return redis_key(self._settings, USER_ENTRY, user_id)

    @property
    def enabled(self) -> bool:
        return self._settings.cache_enabled

    async def get_user(self, user_id: UUID) -> UserRead:
        """The user from Redis, else from PostgreSQL (then cached). Raises UserNotFound."""
        if self.enabled and (cached := await self._read(user_id)):
            return cached
        return await self.load(user_id)

    async def resolve(self, user_id: UUID, raw: str | None) -> UserRead:
        """The user from an entry the caller fetched itself (in a batch), else from PostgreSQL."""
        return (self.parse(raw) if self.enabled else None) or await self.load(user_id)

    async def resolve_json(self, user_id: UUID, raw: str | None) -> str:
        """Like `resolve`, as UserRead's JSON. An entry IS that JSON (`_write` stores
        `model_dump_json`), so a hit is returned as stored: never parsed, never re-encoded."""
        if self.enabled and (hit := self._counted(raw)) is not None:
            return hit
        return (await self.load(user_id)).model_dump_json()

    def parse(self, raw: str | None) -> UserRead | None:
        """A cached entry, counted as a hit or a miss."""
        hit = self._counted(raw)
        return None if hit is None else UserRead.model_validate_json(hit)

    def _counted(self, raw: str | None) -> str | None:
        (CACHE_MISSES if raw is None else CACHE_HITS).inc()
        return raw

    async def load(self, user_id: UUID) -> UserRead:
        """The user from PostgreSQL, once however many ask at the same time; then cached.

        With the cache off every read is its own query: the baseline the cache is measured
        against.
        """
        user = await (self._load_once(user_id) if self.enabled else self._from_database(user_id))
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
            # The client decodes answers (decode_responses=True): str, or None for no key.
            raw = cast(str | None, await self._redis.get(self.key(user_id)))
        except RedisError:
            CACHE_ERRORS.inc()
            logger.warning("user cache unavailable; reading from the database")
            return None
        return self.parse(raw)

    async def _load_once(self, user_id: UUID) -> UserRead | None:
        # Concurrent misses for one user await the same load (see app/single_flight.py).
        return await self._flights.run(("user", user_id), lambda: self._load_and_cache(user_id))

    async def _from_database(self, user_id: UUID) -> UserRead | None:
        try:
            return await self._select_user_row(user_id)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            # The engine's pool does not ping a connection before use (a round trip on
            # every read): one PostgreSQL dropped while idle is found dead here instead.
            # The pool has discarded it and every older one, and a read by primary key
            # changes nothing, so it is sent again, once, on a fresh connection.
            return await self._select_user_row(user_id)

    async def _select_user_row(self, user_id: UUID) -> UserRead | None:
        # A connection of its own (a load may serve many requests) and no ORM session: one
        # row read once needs no identity map, and no transaction (no BEGIN, no ROLLBACK).
        async with self._engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            row = (await autocommit.execute(SELECT_USER, {"user_id": user_id})).first()
        return None if row is None else UserRead.model_validate(row)

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
