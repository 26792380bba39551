"""Exercise cache.fail_open: when Redis refuses connections or hangs, the service still
answers from PostgreSQL, and says in its log that the cache is down. Only Redis's failures
are swallowed: a database outage stays an error, never a 404. Each test also checks that the
cache did try Redis: a cache that never calls Redis would pass for the wrong reason."""

import logging
from contextlib import asynccontextmanager
from uuid import uuid4

import pytest
from asgi_lifespan import LifespanManager
from cache_helpers import require_the_apps_own_client
from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis

from app.main import create_app

pytestmark = pytest.mark.exercise("cache.fail_open")

WHERE = "(app/users/cache.py, exercise cache.fail_open)"
# Nothing listens on port 1: connections are refused at once.
REFUSED = {"redis_url": "redis://127.0.0.1:1/0", "redis_socket_timeout_seconds": 0.5}


def the_apps_own_client(app) -> Redis:
    redis = app.state.resources.redis
    assert isinstance(redis, Redis), (
        "app.state.resources.redis should be the app's Redis client: do exercise cache.client "
        "first."
    )
    require_the_apps_own_client(app)
    return redis


def spy_on_redis(app, *commands: str) -> list[str]:
    """Records every call of these commands on the app's Redis client, then lets it go on."""
    redis = the_apps_own_client(app)
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


@asynccontextmanager
async def serving(app):
    """The app under its lifespan and a client; an exception that escapes the app is
    answered 500 here, as a server would."""
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        LifespanManager(app),
        AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield client


def warnings_of_the_app(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.WARNING and record.name.startswith("app")
    ]


def assert_each_failure_was_logged(calls: list[str], caplog: pytest.LogCaptureFixture) -> None:
    """Every Redis call in these tests fails: each failure caught should leave a warning."""
    warnings = warnings_of_the_app(caplog)
    assert len(warnings) >= len(calls), (
        f"Redis failed {len(calls)} time(s) ({', '.join(call.upper() for call in calls)}) and "
        f"the service logged {len(warnings)} warning(s){': ' + repr(warnings) if warnings else ''}"
        f". An operator must learn that the cache is down: log a warning (logger.warning) "
        f"wherever you catch a Redis error, never `pass` {WHERE}."
    )


def status_advice(status: int) -> str:
    if status == 404:
        return (
            " A 404 says the user does not exist: a Redis failure was turned into "
            "UserNotFound. Carry on as on a miss instead, and load from the database."
        )
    if status == 500:
        return " The Redis error escaped: catch redis.exceptions.RedisError around the call."
    return ""


@pytest.mark.parametrize("settings", [REFUSED], indirect=True, ids=["redis-refuses"])
async def test_reads_are_served_and_logged_when_redis_refuses_connections(app, create_user, caplog):
    user_id = await create_user(full_name="Still here")

    async with client_for(app) as client:
        calls = spy_on_redis(app, "get", "set", "delete")
        response = await client.get(f"/users/{user_id}")

    assert calls, (
        f"The read never asked Redis, so it proves nothing about failing open: do exercise "
        f"cache.aside first {WHERE}."
    )
    assert response.status_code == 200, (
        f"With Redis down, GET /users/{{id}} should still answer 200 from PostgreSQL; it "
        f"answered {response.status_code}.{status_advice(response.status_code)} {WHERE}"
    )
    assert response.json()["full_name"] == "Still here", (
        f"With Redis down, the read should answer the user from PostgreSQL; it answered "
        f"{response.json()!r} {WHERE}."
    )
    assert_each_failure_was_logged(calls, caplog)


@pytest.mark.parametrize("settings", [REFUSED], indirect=True, ids=["redis-refuses"])
async def test_writes_are_served_and_logged_when_redis_refuses_connections(
    app, create_user, caplog
):
    user_id = await create_user()

    async with client_for(app) as client:
        calls = spy_on_redis(app, "get", "set", "delete")
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
    assert_each_failure_was_logged(calls, caplog)


@pytest.mark.timeout(60)  # without socket timeouts the read would hang: stop it here
async def test_a_read_is_served_when_redis_hangs(settings, create_user, hanging_redis, caplog):
    user_id = await create_user(full_name="Patient")
    stuck = create_app(
        settings.model_copy(
            update={"redis_url": hanging_redis.url, "redis_socket_timeout_seconds": 0.2}
        )
    )

    async with serving(stuck) as client:
        calls = spy_on_redis(stuck, "get", "set", "delete")
        response = await client.get(f"/users/{user_id}")

    assert calls, f"The read never asked Redis: do exercise cache.aside first {WHERE}."
    assert response.status_code == 200, (
        f"With a Redis that never answers, GET /users/{{id}} should give up after the socket "
        f"timeout and answer 200 from PostgreSQL; it answered {response.status_code}. A "
        f"timeout is a RedisError too.{status_advice(response.status_code)} {WHERE}"
    )
    assert response.json()["full_name"] == "Patient", (
        f"With a Redis that never answers, the read should answer the user from PostgreSQL; "
        f"it answered {response.json()!r} {WHERE}."
    )
    assert_each_failure_was_logged(calls, caplog)


async def test_a_database_outage_stays_an_error_never_a_404(settings, caplog):
    everything_down = create_app(
        settings.model_copy(
            update={
                **REFUSED,
                # Nothing listens on port 1 for PostgreSQL either.
                "database_url": "postgresql+asyncpg://nobody@127.0.0.1:1/nothing",
                "database_connect_timeout_seconds": 2.0,
            }
        )
    )

    async with serving(everything_down) as client:
        calls = spy_on_redis(everything_down, "get", "set", "delete")
        response = await client.get(f"/users/{uuid4()}")

    assert calls, f"The read never asked Redis: do exercise cache.aside first {WHERE}."
    assert response.status_code == 500, (
        f"With Redis and PostgreSQL both down, a read should fail (500: the service cannot "
        f"know the user); it answered {response.status_code}. "
        + (
            "A 404 tells the client the user does not exist, and a login would say the "
            "password is wrong: catch only Redis's errors (RedisError), and let a "
            "database error go on as it is. "
            if response.status_code == 404
            else ""
        )
        + WHERE
    )
    assert_each_failure_was_logged(calls, caplog)


class NotARedisFailure(Exception):
    """A bug in the code around the cache (a wrong argument, a value Redis cannot store): an
    error, never a cache miss."""


def break_redis_with_a_bug(app, command: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Until the test ends, this command of the app's Redis client raises an error that is
    not a RedisError; the list records each call."""
    redis = the_apps_own_client(app)
    calls: list[str] = []

    async def buggy(*args, **kwargs):
        calls.append(command)
        raise NotARedisFailure(
            f"the test made {command.upper()} on the app's Redis client raise an error that "
            f"is not a RedisError, as a bug in the code around the cache would (Redis itself "
            f"is fine): a service that fails open on it took a bug for an outage"
        )

    monkeypatch.setattr(redis, command, buggy)  # on this instance only
    return calls


@pytest.mark.parametrize(
    ("command", "request_line"),
    [("get", "GET"), ("set", "GET"), ("delete", "PATCH")],
    ids=["get", "set", "delete"],
)
async def test_only_redis_failures_are_swallowed(
    app, create_user, caplog, monkeypatch, command, request_line
):
    user_id = await create_user(full_name="Bug")  # not cached yet: a GET misses, then SETs

    async with client_for(app) as client:
        calls = break_redis_with_a_bug(app, command, monkeypatch)
        if request_line == "GET":
            response = await client.get(f"/users/{user_id}")
        else:
            response = await client.patch(f"/users/{user_id}", json={"full_name": "Changed"})

    assert calls, (
        f"{request_line} /users/{{id}} never called {command.upper()} on the app's Redis "
        f"client, so this test proves nothing yet: do exercise "
        f"{'cache.invalidation' if command == 'delete' else 'cache.aside'} first {WHERE}."
    )
    warnings = warnings_of_the_app(caplog)
    logged = f" and logged {warnings!r}" if warnings else ", without a word in the log"
    swallowed = (
        f"the service answered {response.status_code}{logged}: it took the bug for an outage"
    )
    assert response.status_code == 500, (
        f"Here {command.upper()} on the app's Redis client raised an error that is not a "
        f"RedisError (a bug in the code, not Redis failing), during {request_line} "
        f"/users/{{id}}, and {swallowed}. Failing open is for Redis's own failures: catch "
        f"redis.exceptions.RedisError, not Exception, so that a bug (or a database error) goes "
        f"on as the error it is {WHERE}."
    )
