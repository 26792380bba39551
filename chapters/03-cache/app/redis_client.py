"""Redis: one client (one connection pool) per process, and the key prefix helper."""

from redis.asyncio import Redis

from app.config import Settings


def create_redis(settings: Settings) -> Redis:
    """The process's Redis client. Called in the lifespan; it connects on first use.

    The timeouts are short on purpose: a Redis that does not answer within a fraction of a
    second is treated as down, and each caller then fails open or closed as it must.
    """
    # TODO(cache.client): today the client waits as long as the operating system lets it,
    # opens as many connections as it is asked for, gives up at once on a connection the
    # server closed, and answers bytes. Configure it from the Redis settings (app/config.py):
    # - a reply or a new connection that takes longer than the socket timeout fails, so a
    #   hanging Redis costs each request a fraction of a second instead of hanging it;
    # - at most the configured number of connections per process;
    # - one immediate retry when a pooled connection turns out closed by the server (after a
    #   Redis restart, or an idle timeout), and never a retry of a timeout, which would make
    #   every request wait twice as long while Redis hangs;
    # - replies decoded to `str`: the cache stores JSON text.
    return Redis.from_url(settings.redis_url)


def redis_key(settings: Settings, *parts: object) -> str:
    """`<prefix>part:part`: every key the service writes lives under the configured prefix."""
    return settings.redis_key_prefix + ":".join(str(part) for part in parts)
