"""Token revocation in Redis, by `jti`: logout, and refresh tokens that work only once.

Each mark lives exactly as long as the token it revokes could still be used, so Redis never
keeps dead entries. A Redis error is not caught here: the request fails rather than trust a
token that may have been revoked (fail closed).
"""

from redis.asyncio import Redis

from app.auth.exceptions import TokenRevoked
from app.auth.tokens import TokenClaims
from app.config import Settings
from app.redis_client import redis_key


def _revoked_key(settings: Settings, jti: str) -> str:
    return redis_key(settings, "revoked", jti)


async def revoke_token(redis: Redis, settings: Settings, claims: TokenClaims) -> bool:
    """Revoke a token until it expires; False if it already was.

    SET NX is atomic: of two concurrent calls with one token, exactly one gets True.
    """
    first = await redis.set(
        _revoked_key(settings, claims.jti), 1, ex=claims.seconds_left(), nx=True
    )
    return bool(first)


async def ensure_not_revoked(redis: Redis, settings: Settings, claims: TokenClaims) -> None:
    if await redis.exists(_revoked_key(settings, claims.jti)):
        raise TokenRevoked()
