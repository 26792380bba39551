"""Redis: one client (one connection pool) per process, and the key prefix helper."""

from redis.asyncio import Redis

from app.config import Settings


def create_redis(settings: Settings) -> Redis:
    """The process's Redis client. Called in the lifespan; it connects on first use.

    The timeouts are short on purpose: a Redis that does not answer within a fraction of a
    second counts as down, and the caller carries on without it instead of hanging.
    """
    return Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.redis_socket_timeout_seconds,
        socket_connect_timeout=settings.redis_socket_timeout_seconds,
        decode_responses=True,  # str in, str out: the values are JSON text
    )


def redis_key(settings: Settings, *parts: object) -> str:
    """`<prefix>part:part`: every key the service writes lives under the configured prefix."""
    return settings.redis_key_prefix + ":".join(str(part) for part in parts)
