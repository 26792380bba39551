"""Exercise cache.client: one Redis client per process, made in the lifespan with short
timeouts, and closed at shutdown."""

from urllib.parse import urlsplit

import pytest
from asgi_lifespan import LifespanManager
from redis.asyncio import Redis

from app.main import create_app

pytestmark = pytest.mark.exercise("cache.client")

WHERE = "(app/main.py and app/redis_client.py, exercise cache.client)"


def redis_of(app) -> Redis:
    client = getattr(app.state, "redis", None)
    assert isinstance(client, Redis), (
        f"After start-up, app.state.redis should hold the process's redis.asyncio.Redis "
        f"client; found {type(client).__name__}. Make it in the lifespan with "
        f"create_redis(settings) {WHERE}."
    )
    return client


def connections_of(client: Redis) -> list:
    pool = client.connection_pool
    return [*pool._available_connections, *pool._in_use_connections]


async def test_the_client_is_made_at_start_up_and_answers(settings):
    app = create_app(settings)

    assert not hasattr(app.state, "redis"), (
        "create_app() already made a Redis client: make it in the lifespan, so nothing is "
        "created at import or factory time and every test gets its own."
    )
    async with LifespanManager(app):
        client = redis_of(app)
        answered = await client.ping()
        cache_client = getattr(app.state.user_cache, "_redis", None)

    assert answered is True, "The client should answer PING."
    url = urlsplit(settings.redis_url)
    kwargs = client.connection_pool.connection_kwargs
    talks_to = (kwargs.get("host"), kwargs.get("port"))
    assert talks_to == (url.hostname, url.port), (
        f"The client should talk to settings.redis_url ({settings.redis_url}); it talks to "
        f"{talks_to}. Use Redis.from_url(settings.redis_url, ...) {WHERE}."
    )
    assert cache_client is client, (
        f"The UserCache should use the app's one client, app.state.redis, not None or a second "
        f"client: pass it as UserCache(redis=...) {WHERE}."
    )


async def test_the_client_has_short_timeouts_and_decodes_text(settings):
    quick = settings.model_copy(update={"redis_socket_timeout_seconds": 0.75})
    app = create_app(quick)

    async with LifespanManager(app):
        kwargs = redis_of(app).connection_pool.connection_kwargs

    found = {name: kwargs.get(name) for name in ("socket_timeout", "socket_connect_timeout")}
    assert found == {"socket_timeout": 0.75, "socket_connect_timeout": 0.75}, (
        f"With REDIS_SOCKET_TIMEOUT_SECONDS=0.75 both socket timeouts should be 0.75 s, so a "
        f"Redis that hangs counts as down instead of hanging every request; they are {found}. "
        f"Pass socket_timeout and socket_connect_timeout to Redis.from_url {WHERE}."
    )
    assert kwargs.get("decode_responses") is True, (
        f"Pass decode_responses=True: the cache stores JSON text, and str in, str out is what "
        f"the code expects {WHERE}."
    )


async def test_the_client_is_closed_at_shutdown(settings):
    app = create_app(settings)

    async with LifespanManager(app):
        client = redis_of(app)
        await client.ping()  # opens a pooled connection
        connections = connections_of(client)
        assert any(connection.is_connected for connection in connections)

    still_open = [connection for connection in connections if connection.is_connected]
    assert still_open == [], (
        f"After shutdown {len(still_open)} Redis connection(s) are still open: close the client "
        f"in the lifespan's finally block, `await redis.aclose()` {WHERE}."
    )
