"""Exercise cache.client: one Redis client per process, made in the lifespan with short
timeouts, a bounded pool and one retry for a closed connection, and closed at shutdown."""

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from asgi_lifespan import LifespanManager
from cache_helpers import MAKE_IT_IN_THE_LIFESPAN, why_not_the_apps_own_client
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.main import create_app

pytestmark = pytest.mark.exercise("cache.client")

WHERE = "(app/main.py and app/redis_client.py, exercise cache.client)"


def redis_of(app) -> Redis:
    client = app.state.resources.redis
    assert isinstance(client, Redis), (
        f"After start-up, app.state.resources.redis should hold the process's "
        f"redis.asyncio.Redis client; found {type(client).__name__}. Make it in the lifespan "
        f"with create_redis(settings) {WHERE}."
    )
    why = why_not_the_apps_own_client(app)
    assert why is None, (
        f"The app's Redis client was not made from the settings create_app was given: {why}. "
        f"Every app (each test, each worker process) needs a client of its own, from its own "
        f"settings and on its own event loop: {MAKE_IT_IN_THE_LIFESPAN} {WHERE}."
    )
    return client


def connections_of(client: Redis) -> list:
    pool = client.connection_pool
    return [*pool._available_connections, *pool._in_use_connections]


class DroppingProxy:
    """Forwards TCP to the real Redis, and can drop every connection at once, as a Redis
    restart or an idle timeout on the server does."""

    def __init__(self, target_url: str) -> None:
        target = urlsplit(target_url)
        self._target = (target.hostname, target.port or 6379)
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self.connections = 0

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"redis://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/0"

    async def start(self) -> None:
        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                writer.close()

        async def forward(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
            self.connections += 1
            server_r, server_w = await asyncio.open_connection(*self._target)
            self._writers += [client_w, server_w]
            await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))

        self._server = await asyncio.start_server(forward, "127.0.0.1", 0)

    def drop_connections(self) -> None:
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()

    async def stop(self) -> None:
        self.drop_connections()
        assert self._server is not None
        self._server.close()


@pytest.fixture
async def dropping_proxy(redis_url: str) -> AsyncIterator[DroppingProxy]:
    proxy = DroppingProxy(redis_url)
    await proxy.start()
    yield proxy
    await proxy.stop()


async def test_the_client_is_made_at_start_up_and_answers(settings):
    app = create_app(settings)

    assert not hasattr(app.state, "resources"), "create_app() should open nothing."
    async with LifespanManager(app):
        client = redis_of(app)
        answered = await client.ping()
        kwargs = client.connection_pool.connection_kwargs

    assert answered is True, "The client should answer PING."
    url = urlsplit(settings.redis_url)
    talks_to = (kwargs.get("host"), kwargs.get("port"))
    assert talks_to == (url.hostname, url.port), (
        f"The client should talk to settings.redis_url ({settings.redis_url}); it talks to "
        f"{talks_to}. Build it from the URL {WHERE}."
    )


async def test_the_client_has_short_timeouts_a_bounded_pool_and_answers_text(settings, cache_key):
    configured = settings.model_copy(
        update={"redis_socket_timeout_seconds": 0.75, "redis_max_connections": 7}
    )
    app = create_app(configured)

    async with LifespanManager(app):
        client = redis_of(app)
        await client.set(cache_key("text-probe"), "text")
        answer = await client.get(cache_key("text-probe"))
        kwargs = client.connection_pool.connection_kwargs
        max_connections = client.connection_pool.max_connections

    found = {name: kwargs.get(name) for name in ("socket_timeout", "socket_connect_timeout")}
    assert found == {"socket_timeout": 0.75, "socket_connect_timeout": 0.75}, (
        f"With REDIS_SOCKET_TIMEOUT_SECONDS=0.75 both socket timeouts (a reply, a new "
        f"connection) should be 0.75 s, so a Redis that hangs counts as down instead of "
        f"hanging every request; they are {found} {WHERE}."
    )
    assert max_connections == 7, (
        f"With REDIS_MAX_CONNECTIONS=7 the client's pool should hold at most 7 connections; "
        f"it allows {max_connections} {WHERE}."
    )
    assert answer == "text", (
        f"The client should answer text (str), not bytes: the cache stores JSON text; GET "
        f"answered {answer!r}. Ask redis-py to decode the replies {WHERE}."
    )


async def test_a_connection_the_server_closed_is_retried_once(settings, dropping_proxy):
    app = create_app(settings.model_copy(update={"redis_url": dropping_proxy.url}))

    async with LifespanManager(app):
        client = redis_of(app)
        await client.ping()  # one pooled connection, through the proxy
        dropping_proxy.drop_connections()  # as a Redis restart would
        try:
            answered = await client.ping()
        except RedisConnectionError as error:
            answered = error

    assert answered is True, (
        f"A pooled connection that the server closed (a Redis restart, an idle timeout) "
        f"should be retried once, at once, on a new connection; the command failed with "
        f"{answered!r}. {retry_advice(client)} {WHERE}."
    )


def retry_advice(client: Redis) -> str:
    """What to change in the client's retry policy, from the policy it has."""
    retry = client.connection_pool.connection_kwargs.get("retry")
    retried = getattr(retry, "_supported_errors", ())
    if ConnectionError in retried and not any(
        issubclass(error, RedisConnectionError) for error in retried
    ):
        return (
            "supported_errors must hold redis.exceptions.ConnectionError; Python's built-in "
            "ConnectionError is another class (redis-py raises its own for a closed connection), "
            "so nothing was retried"
        )
    return "Give the client a retry policy (redis.asyncio.retry.Retry) for connection errors"


@pytest.mark.timeout(30)  # without a socket timeout the command would hang: stop it here
async def test_a_timeout_is_not_retried(settings, hanging_redis):
    app = create_app(
        settings.model_copy(
            update={"redis_url": hanging_redis.url, "redis_socket_timeout_seconds": 0.2}
        )
    )

    async with LifespanManager(app):
        client = redis_of(app)
        timeout = client.connection_pool.connection_kwargs.get("socket_timeout")
        assert timeout == 0.2, (
            f"With REDIS_SOCKET_TIMEOUT_SECONDS=0.2 the client's socket_timeout should be "
            f"0.2 s; it is {timeout}, and a Redis that hangs would hang the request {WHERE}."
        )
        with pytest.raises(RedisTimeoutError):
            await client.get("anything")

    assert hanging_redis.connections == 1, (
        f"A Redis that did not answer in time was tried {hanging_redis.connections} times: "
        f"retrying a timeout makes every request wait several timeouts while Redis hangs. "
        f"Retry connection errors only (the Retry's supported_errors) {WHERE}."
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
        f"After shutdown {len(still_open)} Redis connection(s) are still open: close the "
        f"client when the lifespan ends, in its `finally` {WHERE}."
    )
