"""Login rate limiting in Redis with one atomic Lua script (a fixed window per client).

INCR and EXPIRE as two commands could leave a counter without expiry if the process died
between them, and two processes could interleave; a Lua script runs as one step in Redis.
The limiter fails OPEN: when Redis is down, logins go through unlimited rather than not at all.
"""

import logging
import math
from dataclasses import dataclass

from fastapi import Request
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.config import Settings
from app.exceptions import TooManyRequests
from app.redis_client import redis_key

logger = logging.getLogger(__name__)

# KEYS[1]: the counter. ARGV[1]: the window in ms. Returns {hits so far, ms until reset}.
FIXED_WINDOW_SCRIPT = """
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {hits, ttl}
"""


@dataclass(frozen=True)
class RateLimitResult:
    limit: int
    hits: int
    reset_after_seconds: int

    @property
    def allowed(self) -> bool:
        return self.hits <= self.limit


class RateLimiter:
    """One per process (made in the lifespan); the script is sent once, then run by its SHA."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self._settings = settings
        self._script = redis.register_script(FIXED_WINDOW_SCRIPT)

    async def hit(
        self, name: str, identity: str, *, limit: int, window_seconds: int
    ) -> RateLimitResult | None:
        """Count one request of `identity` against limit `name`; None if Redis cannot say."""
        key = redis_key(self._settings, "ratelimit", name, identity)
        try:
            hits, reset_ms = await self._script(keys=[key], args=[window_seconds * 1000])
        except RedisError:
            logger.warning("rate limiter unavailable; letting the request through (fail open)")
            return None
        return RateLimitResult(
            limit=limit, hits=int(hits), reset_after_seconds=math.ceil(int(reset_ms) / 1000)
        )


def _client_ip(request: Request) -> str:
    # Behind a proxy, uvicorn puts the real client here, but only for trusted proxies
    # (--forwarded-allow-ips): a header anyone can send must not pick the bucket.
    return request.client.host if request.client else "unknown"


async def limit_logins(request: Request) -> None:
    """Per client IP: slows password guessing without locking the account's owner out."""
    settings: Settings = request.app.state.settings
    result = await request.app.state.rate_limiter.hit(
        "login",
        _client_ip(request),
        limit=settings.login_rate_limit,
        window_seconds=settings.login_rate_limit_window_seconds,
    )
    if result is not None and not result.allowed:
        raise TooManyRequests(
            f"Too many login attempts; try again in {result.reset_after_seconds} s.",
            headers={"Retry-After": str(result.reset_after_seconds)},
        )
