"""Redis: one client (one connection pool) per process, and the key prefix helper."""

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from app.config import Settings


def create_redis(settings: Settings) -> Redis:
    """The process's Redis client. Called in the lifespan; it connects on first use.

    The timeouts are short on purpose: a Redis that does not answer within a fraction of a
    second is treated as down, and each caller then fails open or closed as it must.
    """
    return Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.redis_socket_timeout_seconds,
        socket_connect_timeout=settings.redis_socket_timeout_seconds,
        max_connections=settings.redis_max_connections,
        # One immediate retry for a pooled connection the server closed; never for a timeout,
        # which would double the wait of every request while Redis hangs.
        retry=Retry(NoBackoff(), retries=1, supported_errors=(RedisConnectionError,)),
        decode_responses=True,
    )


def redis_key(settings: Settings, *parts: object) -> str:
    """`<prefix>part:part`: every key the service writes lives under the configured prefix."""
    return settings.redis_key_prefix + ":".join(str(part) for part in parts)
