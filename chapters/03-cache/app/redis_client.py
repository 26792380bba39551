"""Redis: one client (one connection pool) per process, and the key prefix helper."""

from redis.asyncio import Redis

from app.config import Settings


def create_redis(settings: Settings) -> Redis:
    """The process's Redis client. Called in the lifespan; it connects on first use."""
    # TODO(cache.client): a Redis that does not answer within redis_socket_timeout_seconds
    # counts as down: use it as socket_timeout and socket_connect_timeout. And
    # decode_responses=True: str in, str out, since the values are JSON text.
    return Redis.from_url(settings.redis_url)


def redis_key(settings: Settings, *parts: object) -> str:
    """`<prefix>part:part`: every key the service writes lives under the configured prefix."""
    return settings.redis_key_prefix + ":".join(str(part) for part in parts)
