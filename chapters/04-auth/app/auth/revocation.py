"""Token revocation in Redis, by `jti`: logout, and refresh tokens that work only once.

Each mark lives exactly as long as the token it revokes could still be used, so Redis never
keeps dead entries. A Redis error is not caught here: the request fails rather than trust a
token that may have been revoked (fail closed).
"""

from redis.asyncio import Redis

from app.auth.tokens import TokenClaims
from app.config import Settings
from app.redis_client import redis_key


def _revoked_key(settings: Settings, jti: str) -> str:
    return redis_key(settings, "revoked", jti)


async def revoke_token(redis: Redis, settings: Settings, claims: TokenClaims) -> bool:
    """Revoke a token until it expires; False if it already was."""
    # TODO(auth.refresh): mark the token's jti as revoked with ONE atomic command, SET with
    # nx=True and ex=claims.seconds_left(), and return whether this call set the mark.
    return True


async def ensure_not_revoked(redis: Redis, settings: Settings, claims: TokenClaims) -> None:
    # TODO(auth.logout): raise TokenRevoked (app.auth.exceptions) when the token's jti is
    # marked as revoked in Redis.
    return None
