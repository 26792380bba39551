"""Exercise cache.fail_open: when Redis refuses connections or hangs, the service still
answers from PostgreSQL. Each test also checks that the cache did try Redis: a cache that
never calls Redis would pass for the wrong reason."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis

from app.main import create_app

pytestmark = pytest.mark.exercise("cache.fail_open")

WHERE = "(app/users/cache.py, exercise cache.fail_open)"
# Nothing listens on port 1: connections are refused at once.
REFUSED = {"redis_url": "redis://127.0.0.1:1/0", "redis_socket_timeout_seconds": 0.5}


def spy_on_redis(app, *commands: str) -> list[str]:
    """Records every call of these commands on the app's Redis client, then lets it go on."""
    redis = getattr(app.state, "redis", None)
    assert isinstance(redis, Redis), (
        "app.state.redis should be the app's Redis client: do exercise cache.client first."
    )
    calls: list[str] = []
    for command in commands:
        original = getattr(redis, command)

        async def recorded(*args, _command=command, _original=original, **kwargs):
            calls.append(_command)
            return await _original(*args, **kwargs)

        setattr(redis, command, recorded)  # on this instance only
    return calls


def client_for(app) -> AsyncClient:
    # An exception that escapes the app is answered 500 here, as a server would.
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    return AsyncClient(transport=transport, base_url="http://test")


@pytest.mark.parametrize("settings", [REFUSED], indirect=True, ids=["redis-refuses"])
async def test_reads_are_served_when_redis_refuses_connections(app, create_user):
    user_id = await create_user(full_name="Still here")
    calls = spy_on_redis(app, "get")

    async with client_for(app) as client:
        response = await client.get(f"/users/{user_id}")

    assert calls, (
        f"The read never asked Redis, so it proves nothing about failing open: do exercise "
        f"cache.aside first {WHERE}."
    )
    assert response.status_code == 200, (
        f"With Redis down, GET /users/{{id}} should still answer 200 from PostgreSQL; it "
        f"answered {response.status_code}. Catch redis.exceptions.RedisError around each Redis "
        f"call in UserCache, log a warning, and carry on without the cache {WHERE}."
    )
    assert response.json()["full_name"] == "Still here", (
        f"With Redis down, the read should answer the user from PostgreSQL; it answered "
        f"{response.json()!r}. On a RedisError, go on as on a miss: load from the database "
        f"{WHERE}."
    )


@pytest.mark.parametrize("settings", [REFUSED], indirect=True, ids=["redis-refuses"])
async def test_writes_are_served_when_redis_refuses_connections(app, create_user):
    user_id = await create_user()
    calls = spy_on_redis(app, "delete")

    async with client_for(app) as client:
        patched = await client.patch(f"/users/{user_id}", json={"full_name": "Changed"})
        deleted = await client.delete(f"/users/{user_id}")

    assert calls, (
        "The PATCH and the DELETE never asked Redis to drop the cached user: do exercise "
        "cache.invalidation first."
    )
    assert (patched.status_code, deleted.status_code) == (200, 204), (
        f"With Redis down, PATCH should answer 200 and DELETE 204 (the database changed; a "
        f"lost invalidation only lives until the TTL); they answered {patched.status_code} "
        f"and {deleted.status_code}. Catch RedisError in UserCache.invalidate too {WHERE}."
    )


@pytest.fixture
async def hanging_redis_url() -> AsyncIterator[str]:
    """A server that accepts connections and never answers: Redis stuck, or a black hole."""

    async def ignore(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client hangs up
        writer.close()

    server = await asyncio.start_server(ignore, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"redis://127.0.0.1:{port}/0"
    server.close()


@pytest.mark.timeout(60)  # without socket timeouts the read would hang: stop it here
async def test_a_read_is_served_when_redis_hangs(settings, app, create_user, hanging_redis_url):
    user_id = await create_user(full_name="Patient")
    stuck = create_app(
        settings.model_copy(
            update={"redis_url": hanging_redis_url, "redis_socket_timeout_seconds": 0.2}
        )
    )

    async with LifespanManager(stuck), client_for(stuck) as client:
        calls = spy_on_redis(stuck, "get")
        response = await client.get(f"/users/{user_id}")

    assert calls, f"The read never asked Redis: do exercise cache.aside first {WHERE}."
    assert response.status_code == 200, (
        f"With a Redis that never answers, GET /users/{{id}} should give up after the socket "
        f"timeout and answer 200 from PostgreSQL; it answered {response.status_code}. A "
        f"timeout is a RedisError too: catch it {WHERE}."
    )
    assert response.json()["full_name"] == "Patient", (
        f"With a Redis that never answers, the read should answer the user from PostgreSQL; "
        f"it answered {response.json()!r}. On a RedisError, go on as on a miss {WHERE}."
    )
