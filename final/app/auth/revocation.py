"""Token revocation in Redis: by `jti` (logout) and by `family` (refresh token reuse).

Each mark lives exactly as long as what it revokes could still be used, so Redis never
grows with dead entries. Unlike the cache, this check fails CLOSED: if Redis cannot say
"not revoked", a logged-out token must not work, so the request is refused (503).
"""

import logging

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
