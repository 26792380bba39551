"""Rate limiting in Redis with one atomic Lua script (a fixed window per key).

INCR and EXPIRE as two commands could leave a counter without expiry if the process died
between them, and two processes could interleave; a Lua script runs as one step in Redis.
The limiter fails OPEN: when Redis is down the request goes through, because refusing
every login while Redis restarts would turn a cache outage into a full outage.

The policies (what is counted per what) belong to the routes' domains; this module only
counts.
"""

import logging
from dataclasses import dataclass

from fastapi import HTTPException, Request, Response, status
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.config import Settings
from app.redis_client import redis_key

logger = logging.getLogger(__name__)

# KEYS[1]: the counter. ARGV[1]: the window in ms. Returns {hits so far, ms until reset}.
# TODO(auth.rate_limit): a fixed window. The first hit starts the window, and the counter
# then lives exactly as long as the window (a later hit must not extend it, and no counter
# may be left without an expiry: its client would be locked out for good). Counting and
# checking happen in this one script, because Redis runs a script as one step.
FIXED_WINDOW_SCRIPT = """
return {0, 0}
"""

# KEYS[1]: the counter. Takes one hit back, but never creates a counter (it would have no TTL).
REFUND_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""


class TooManyRequests(HTTPException):
    def __init__(self, detail: str, headers: dict[str, str]) -> None:
        super().__init__(status.HTTP_429_TOO_MANY_REQUESTS, detail, headers=headers)


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
        # TODO(auth.rate_limit): count this hit with the script (self._count) under the
        # counter's key, and say where the client stands. Past the limit the client is told,
        # in seconds, when to try again (429, Retry-After), whatever unit Redis counts in.
        # When Redis cannot be asked, the request goes through, with a warning in the log:
        # stopping every login while Redis restarts would turn an outage of the limiter into
        # an outage of the service.
        return None

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
