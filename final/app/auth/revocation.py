"""Token revocation in Redis: by `jti` (logout) and by `family` (refresh token reuse, and
every other login of a user whose password changes).

Each mark lives exactly as long as what it revokes could still be used, so Redis never
grows with dead entries. Unlike the cache, this check fails CLOSED: if Redis cannot say
"not revoked", a logged-out token must not work, so the request is refused (503).
"""

import logging
import time
from uuid import UUID

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.auth.exceptions import RevocationCheckUnavailable, TokenRevoked
from app.auth.tokens import TokenClaims
from app.config import Settings
from app.redis_client import redis_key

logger = logging.getLogger(__name__)


def _revoked_token_key(settings: Settings, jti: str) -> str:
    return redis_key(settings, "revoked", "jti", jti)


def _revoked_family_key(settings: Settings, family: str) -> str:
    return redis_key(settings, "revoked", "family", family)


def _used_refresh_key(settings: Settings, jti: str) -> str:
    return redis_key(settings, "refresh", "used", jti)


def _user_logins_key(settings: Settings, user_id: UUID) -> str:
    return redis_key(settings, "logins", user_id)


def revocation_keys(settings: Settings, claims: TokenClaims) -> tuple[str, str]:
    """The keys whose presence revokes this token: its own mark, and its login's."""
    return _revoked_token_key(settings, claims.jti), _revoked_family_key(settings, claims.family)


async def ensure_not_revoked(redis: Redis, settings: Settings, claims: TokenClaims) -> None:
    """One round trip: is this token, or its whole login, revoked?"""
    try:
        revoked = await redis.exists(*revocation_keys(settings, claims))
    except RedisError:
        logger.error("revocation check failed: refusing the token (fail closed)")
        raise RevocationCheckUnavailable() from None
    if revoked:
        raise TokenRevoked()


async def revoke_login(redis: Redis, settings: Settings, claims: TokenClaims) -> None:
    """Logout: revoke this token by its jti, and its family so its refresh token dies too."""
    try:
        async with redis.pipeline(transaction=False) as pipe:
            pipe.set(_revoked_token_key(settings, claims.jti), 1, ex=claims.seconds_left())
            # A family's newest refresh token lives at most one refresh TTL from now.
            pipe.set(
                _revoked_family_key(settings, claims.family),
                1,
                ex=settings.refresh_token_ttl_seconds,
            )
            await pipe.execute()
    except RedisError:
        raise RevocationCheckUnavailable() from None


async def revoke_family(redis: Redis, settings: Settings, family: str) -> None:
    try:
        await redis.set(
            _revoked_family_key(settings, family), 1, ex=settings.refresh_token_ttl_seconds
        )
    except RedisError:
        raise RevocationCheckUnavailable() from None


async def use_refresh_token(redis: Redis, settings: Settings, claims: TokenClaims) -> bool:
    """Mark a refresh token used; False if it already was (SET NX is atomic, so of two
    concurrent refreshes with one token exactly one gets True)."""
    try:
        first_use = await redis.set(
            _used_refresh_key(settings, claims.jti), 1, ex=claims.seconds_left(), nx=True
        )
    except RedisError:
        raise RevocationCheckUnavailable() from None
    return bool(first_use)


async def remember_login(redis: Redis, settings: Settings, *, user_id: UUID, family: str) -> None:
    """Note a login (its family) under its user until its newest refresh token expires, so
    that a password change can find it and revoke it.

    Best effort: with Redis down a login still works (its tokens cannot be used until Redis
    is back), and its family is noted at its first refresh instead.
    """
    now = int(time.time())
    key = _user_logins_key(settings, user_id)
    try:
        async with redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {family: now + settings.refresh_token_ttl_seconds})
            pipe.zremrangebyscore(key, "-inf", now)  # logins whose refresh tokens all expired
            pipe.expire(key, settings.refresh_token_ttl_seconds)
            await pipe.execute()
    except RedisError:
        logger.warning(
            "could not note the login; a password change will miss it until it refreshes"
        )


async def revoke_other_logins(
    redis: Redis, settings: Settings, *, user_id: UUID, keep_family: str | None
) -> None:
    """Revoke every live login of the user but `keep_family` (the one changing the password).

    Fails closed: when Redis cannot do it, RevocationCheckUnavailable (503) is raised, and the
    caller must not change the password, or a stolen session would outlive it.
    """
    key = _user_logins_key(settings, user_id)
    try:
        families = await redis.zrangebyscore(key, int(time.time()), "+inf")
        doomed = [family for family in families if family != keep_family]
        if doomed:
            async with redis.pipeline(transaction=False) as pipe:
                for family in doomed:
                    pipe.set(
                        _revoked_family_key(settings, family),
                        1,
                        ex=settings.refresh_token_ttl_seconds,
                    )
                pipe.zrem(key, *doomed)
                await pipe.execute()
    except RedisError:
        raise RevocationCheckUnavailable() from None
