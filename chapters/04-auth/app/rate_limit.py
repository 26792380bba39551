"""Login rate limiting in Redis with one atomic Lua script (a fixed window per client).

INCR and EXPIRE as two commands could leave a counter without expiry if the process died
between them, and two processes could interleave; a Lua script runs as one step in Redis.
The limiter fails OPEN: when Redis is down, logins go through unlimited rather than not at all.
"""

import logging
from dataclasses import dataclass

from fastapi import Request
from redis.asyncio import Redis

from app.config import Settings

logger = logging.getLogger(__name__)

# KEYS[1]: the counter. ARGV[1]: the window in ms. Returns {hits so far, ms until reset}.
# TODO(auth.rate_limit): count the hit (INCR); when the counter has no expiry yet (PTTL below
# 0), start the window (PEXPIRE). Return {hits, ms until the window resets}.
FIXED_WINDOW_SCRIPT = """
return {0, 0}
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
        # TODO(auth.rate_limit): run self._script with keys=[the counter's key] (use
        # app.redis_client.redis_key(self._settings, "ratelimit", name, identity)) and
        # args=[the window in ms]; return a RateLimitResult (seconds until reset, rounded up).
        # On a RedisError, log a warning and return None: the limiter fails open.
        return None


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
    if result is None:  # Redis could not say: let the login through (fail open)
        return
    # TODO(auth.rate_limit): when the result is not allowed, raise an HTTPException 429 Too
    # Many Requests whose Retry-After header says in how many seconds to try again.
