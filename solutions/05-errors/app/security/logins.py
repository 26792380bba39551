"""Logins in Redis: a token is accepted only while the login it belongs to is alive.

A login is what one password check starts: the `family` claim of every token issued from it.
It lives in one key, `login:<family>`, holding the id (jti) of its one usable refresh token,
with the refresh token's lifetime as TTL. So:

- ending a login (logout, a reused refresh token, a new password) is one DEL, and every
  token of that login stops working at once;
- Redis holds one key per live login, however often it refreshes: nothing piles up;
- a user's logins are listed in a sorted set (`user-logins:<user id>`, scored by expiry) so
  that a password change can end all of them but the one making it.

Unlike the cache, this fails CLOSED: when Redis cannot answer, no token is accepted and no
login starts (503), because "I could not check" must never mean "logged in".
"""

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from enum import Enum
from typing import cast
from uuid import UUID

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from app.config import Settings
from app.redis_client import redis_key
from app.security.exceptions import LoginStoreUnavailable
from app.security.tokens import TokenClaims

logger = logging.getLogger(__name__)


class Rotation(Enum):
    ROTATED = "rotated"  # the presented refresh token was the login's current one
    REUSED = "reused"  # it had been used already: two parties hold it, the login is ended
    ENDED = "ended"  # the login no longer exists


@asynccontextmanager
async def _fail_closed() -> AsyncIterator[None]:
    try:
        yield
    except RedisError:
        logger.error("the login store is unavailable: refusing (fail closed)")
        raise LoginStoreUnavailable() from None


class LoginRegistry:
    """The logins of every user; one per process (made in the lifespan)."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self._redis = redis
        self._settings = settings

    def key(self, family: str) -> str:
        """The login's key: tokens of `family` are accepted while it exists."""
        return redis_key(self._settings, "login", family)

    def _user_logins_key(self, user_id: UUID) -> str:
        return redis_key(self._settings, "user-logins", user_id)

    def _list(self, pipe: Pipeline, *, user_id: UUID, family: str) -> None:
        """Queue on `pipe`: name the login in the user's list until its key expires."""
        ttl = self._settings.refresh_token_ttl_seconds
        now = int(time.time())
        listing = self._user_logins_key(user_id)
        pipe.zadd(listing, {family: now + ttl})
        pipe.zremrangebyscore(listing, "-inf", now)  # logins that expired on their own
        pipe.expire(listing, ttl)

    async def start(self, *, user_id: UUID, family: str, refresh_jti: str) -> None:
        """A new login whose one usable refresh token is `refresh_jti`."""
        ttl = self._settings.refresh_token_ttl_seconds
        async with _fail_closed(), self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self.key(family), refresh_jti, ex=ttl)
            self._list(pipe, user_id=user_id, family=family)
            await pipe.execute()

    async def is_alive(self, family: str) -> bool:
        """Is this login still alive, so that its tokens are accepted?"""
        async with _fail_closed():
            return bool(await self._redis.exists(self.key(family)))

    async def rotate(self, claims: TokenClaims, *, new_refresh_jti: str) -> Rotation:
        """Make `new_refresh_jti` the login's usable refresh token, if `claims` was.

        One atomic SET ... XX GET swaps the value and returns the one it replaced: of two
        concurrent refreshes with one token, exactly one sees its own jti come back.
        """
        key = self.key(claims.family)
        async with _fail_closed():
            replaced = await self._redis.set(
                key,
                new_refresh_jti,
                ex=self._settings.refresh_token_ttl_seconds,
                xx=True,  # only a live login; never resurrect an ended one
                get=True,
            )
        if replaced is None:
            return Rotation.ENDED
        if replaced != claims.jti:
            await self.end(user_id=claims.sub, family=claims.family)
            return Rotation.REUSED
        # The key lives another refresh lifetime: so must its entry in the user's list, or a
        # login kept alive by refreshes would drop out of it and outlive a password change.
        async with _fail_closed(), self._redis.pipeline(transaction=True) as pipe:
            self._list(pipe, user_id=claims.sub, family=claims.family)
            await pipe.execute()
        return Rotation.ROTATED

    async def end(self, *, user_id: UUID, family: str) -> None:
        """End one login: every token it issued stops working."""
        async with _fail_closed(), self._redis.pipeline(transaction=False) as pipe:
            pipe.delete(self.key(family))
            pipe.zrem(self._user_logins_key(user_id), family)
            await pipe.execute()

    async def end_all(self, *, user_id: UUID, keep_family: str | None = None) -> None:
        """End every login of the user but `keep_family` (the one changing the password)."""
        listing = self._user_logins_key(user_id)
        async with _fail_closed():
            families = cast(list[str], await self._redis.zrange(listing, 0, -1))
            doomed = [family for family in families if family != keep_family]
            if doomed:
                async with self._redis.pipeline(transaction=False) as pipe:
                    pipe.delete(*(self.key(family) for family in doomed))
                    pipe.zrem(listing, *doomed)
                    await pipe.execute()
