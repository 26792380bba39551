"""Rate limiting in Redis with one atomic Lua script (a fixed window per key).

INCR and EXPIRE as two commands could leave a counter without expiry if the process died
between them, and two processes could interleave; a Lua script runs as one step in Redis.
The limiter fails OPEN: when Redis is down the request goes through, because refusing
every login while Redis restarts would turn a cache outage into a full outage.

The policies (what is counted per what) belong to the routes' domains; this module only
counts.
"""

import logging
import math
from dataclasses import dataclass

from fastapi import Request, Response
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

# KEYS[1]: the counter. Takes one hit back, but never creates a counter (it would have no TTL).
REFUND_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""


@dataclass(frozen=True)
class RateLimitResult:
    limit: int
    hits: int
    reset_after_seconds: int

    @property
    def allowed(self) -> bool:
        return self.hits <= self.limit

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(max(0, self.limit - self.hits)),
            "RateLimit-Reset": str(self.reset_after_seconds),
        }


class RateLimiter:
    """One per process (made in the lifespan); the scripts are run by their SHA."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self._settings = settings
        self._count = redis.register_script(FIXED_WINDOW_SCRIPT)
        self._refund = redis.register_script(REFUND_SCRIPT)

    def _key(self, name: str, identity: str) -> str:
        return redis_key(self._settings, "ratelimit", name, identity)

    async def hit(
        self, name: str, identity: str, *, limit: int, window_seconds: int
    ) -> RateLimitResult | None:
        """Count one request of `identity` against limit `name`; raise TooManyRequests past it.

        Returns the count (for the RateLimit-* headers), or None when the limiter is off or
        Redis could not be asked.
        """
        if not self._settings.rate_limit_enabled:
            return None
        try:
            hits, reset_ms = await self._count(
                keys=[self._key(name, identity)], args=[window_seconds * 1000]
            )
        except RedisError:
            logger.warning("rate limiter unavailable; letting the request through (fail open)")
            return None
        result = RateLimitResult(
            limit=limit, hits=int(hits), reset_after_seconds=math.ceil(int(reset_ms) / 1000)
        )
        if not result.allowed:
            raise TooManyRequests(
                f"Too many requests; try again in {result.reset_after_seconds} s.",
                headers={"Retry-After": str(result.reset_after_seconds), **result.headers()},
            )
        return result

    async def enforce(
        self, response: Response, name: str, identity: str, *, limit: int, window_seconds: int
    ) -> None:
        """`hit`, telling the client where it stands in the RateLimit-* headers."""
        result = await self.hit(name, identity, limit=limit, window_seconds=window_seconds)
        if result is not None:
            response.headers.update(result.headers())

    async def refund(self, name: str, identity: str) -> None:
        """Take back one hit: for limits that count only failures, a success is refunded."""
        if not self._settings.rate_limit_enabled:
            return
        try:
            await self._refund(keys=[self._key(name, identity)])
        except RedisError:
            logger.warning("rate limiter unavailable; a success was not refunded")


def client_ip(request: Request) -> str:
    # Behind a proxy, uvicorn puts the real client here, but only for trusted proxies
    # (--forwarded-allow-ips): a header anyone can send must not pick the bucket.
    return request.client.host if request.client else "unknown"
