"""A dependency that hangs (accepts the connection, never answers) is given up on within its
configured timeout: the cache fails open, revocation fails closed, readiness says 503.

A refused connection fails at once; a hang is the harder case, and the one a timeout exists
for. Each test bounds the wait by the configured timeout plus a generous margin (a busy
machine is slow, never that slow), and a guard far beyond it turns a real hang into a failure.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field

import pytest
from asgi_lifespan import LifespanManager
from final_helpers import client_for, make_settings, override_user_cache, running_app, user_cache_of

from app.main import create_app
from app.redis_client import create_redis
from app.security.tokens import encode_token, new_claims
from app.users.models import User

MARGIN_SECONDS = 5.0  # generous: the bounds below are about timeouts, not about speed
GUARD_SECONDS = 60.0  # a wait this long means no timeout was applied at all
REDIS_TIMEOUT = 0.5  # the production default of REDIS_SOCKET_TIMEOUT_SECONDS
LONG_TIMEOUT = 30.0  # for the other timeouts, so only the one under test can end the wait


@dataclass
class HangingServer:
    """A TCP listener that accepts every connection, reads what it is sent, answers nothing."""

    port: int = 0
    connections: int = 0
    bytes_received: int = 0
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)

    async def _hold(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        while chunk := await reader.read(65536):
            self.bytes_received += len(chunk)

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def postgres_url(self) -> str:
        return f"postgresql+asyncpg://nobody:nothing@127.0.0.1:{self.port}/none"


@pytest.fixture
async def hanging() -> AsyncIterator[HangingServer]:
    server_state = HangingServer()
    server = await asyncio.start_server(server_state._hold, "127.0.0.1", 0)
    server_state.port = server.sockets[0].getsockname()[1]
    yield server_state
    for writer in server_state._writers:
        writer.close()
    server.close()


async def timed(awaitable: Awaitable, what: str) -> tuple[object, float]:
    """(the result, the seconds it took); fails if it is still waiting after the guard."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(GUARD_SECONDS):
            result = await awaitable
    except TimeoutError:
        pytest.fail(f"{what} was still waiting after {GUARD_SECONDS} s: no timeout applied")
    return result, time.perf_counter() - started


async def test_a_read_fails_open_when_the_cache_redis_hangs(
    client, create_user, login, app, hanging
):
    tokens = await login(await create_user())
    target = await create_user(full_name="Still here")
    hanging_settings = app.state.settings.model_copy(
        update={"redis_url": hanging.redis_url, "redis_socket_timeout_seconds": REDIS_TIMEOUT}
    )
    hanging_redis = create_redis(hanging_settings)  # the app's own client, its own timeouts
    # Only the cache's Redis hangs; the revocation check keeps a live one (it fails closed).
    override_user_cache(app, redis=hanging_redis)
    try:
        response, seconds = await timed(
            client.get(f"/users/{target.id}", headers=tokens.headers), "a read"
        )
    finally:
        await hanging_redis.aclose()

    assert hanging.connections >= 1, "the control: the cache did ask the hanging Redis"
    assert response.status_code == 200, response.text
    assert response.json()["full_name"] == "Still here", "served from PostgreSQL"
    assert seconds < REDIS_TIMEOUT + MARGIN_SECONDS, (
        f"the read took {seconds:.1f} s: a hanging cache must cost at most "
        f"REDIS_SOCKET_TIMEOUT_SECONDS ({REDIS_TIMEOUT} s), then fail open (app/redis_client.py)"
    )


@pytest.fixture
async def app_on_hanging_redis(database_url, redis_namespace, database_schema, hanging):
    """An app whose only Redis hangs, with the production Redis timeout."""
    settings = make_settings(
        database_url,
        hanging.redis_url,
        redis_namespace,
        redis_socket_timeout_seconds=REDIS_TIMEOUT,
        health_check_timeout_seconds=LONG_TIMEOUT,
    )
    async with running_app(settings) as app:
        yield app


async def test_the_cache_fails_open_when_all_of_redis_hangs(app_on_hanging_redis, hanging):
    app = app_on_hanging_redis
    async with app.state.resources.sessionmaker() as session:
        user = User(email="hang@example.com", full_name="From PostgreSQL", hashed_password="-")
        session.add(user)
        await session.commit()

    # A cache-aside read: the lookup and the write-back both meet the hang.
    found, seconds = await timed(user_cache_of(app).get_user(user.id), "the cached read")

    assert hanging.connections >= 1, "the control: the cache did ask the hanging Redis"
    assert found.full_name == "From PostgreSQL"
    assert seconds < 2 * REDIS_TIMEOUT + MARGIN_SECONDS, (
        f"a read took {seconds:.1f} s with Redis hanging: each Redis call must give up after "
        f"REDIS_SOCKET_TIMEOUT_SECONDS ({REDIS_TIMEOUT} s)"
    )


async def test_tokens_fail_closed_in_time_when_redis_hangs(app_on_hanging_redis, hanging):
    app = app_on_hanging_redis
    settings = app.state.settings
    async with client_for(app) as client:
        created = await client.post(
            "/users", json={"email": "h@example.com", "password": "password123"}
        )
        login, login_seconds = await timed(
            client.post(
                "/auth/token", data={"username": "h@example.com", "password": "password123"}
            ),
            "a login",
        )
        claims = new_claims(
            user_id=created.json()["id"], token_type="access", family="f", settings=settings
        )
        headers = {"Authorization": f"Bearer {encode_token(claims, settings)}"}
        read, read_seconds = await timed(client.get("/users/me", headers=headers), "a read")

    assert login.status_code == 503, "a login that cannot be registered is refused (fail closed)"
    assert login.json()["code"] == "auth_unavailable"
    # Four Redis calls, each given up on: the address limit, the account's password guesses
    # (counted, then refunded), and registering the login.
    assert login_seconds < 4 * REDIS_TIMEOUT + MARGIN_SECONDS, f"login took {login_seconds:.1f} s"
    assert read.status_code == 503, "no answer about the login means no access (fail closed)"
    assert read.json()["code"] == "auth_unavailable"
    assert read_seconds < REDIS_TIMEOUT + MARGIN_SECONDS, f"the refusal took {read_seconds:.1f} s"


async def test_readiness_is_503_naming_redis_within_its_timeout_when_redis_hangs(
    database_url, redis_namespace, database_schema, hanging
):
    health_timeout = 1.0
    settings = make_settings(
        database_url,
        hanging.redis_url,
        redis_namespace,
        redis_socket_timeout_seconds=LONG_TIMEOUT,  # only the health check's timeout can end it
        health_check_timeout_seconds=health_timeout,
    )
    async with running_app(settings) as app, client_for(app) as client:
        ready, seconds = await timed(client.get("/health/ready"), "readiness")

    assert hanging.connections >= 1, "the control: readiness did ask the hanging Redis"
    assert ready.status_code == 503, ready.text
    assert ready.json()["checks"] == {"postgres": "ok", "redis": "down"}
    assert "redis" in ready.json()["detail"]
    assert seconds < health_timeout + MARGIN_SECONDS, (
        f"readiness took {seconds:.1f} s: it must give up after HEALTH_CHECK_TIMEOUT_SECONDS "
        f"({health_timeout} s) whatever the Redis client's own timeout (app/health.py)"
    )


async def test_readiness_is_503_naming_postgres_within_its_timeout_when_postgres_hangs(
    redis_url, redis_namespace, hanging
):
    health_timeout = 1.0
    settings = make_settings(
        hanging.postgres_url,
        redis_url,
        redis_namespace,
        database_connect_timeout_seconds=LONG_TIMEOUT,  # only the health check's can end it
        database_pool_timeout_seconds=LONG_TIMEOUT,
        health_check_timeout_seconds=health_timeout,
    )
    app = create_app(settings)
    async with LifespanManager(app), client_for(app) as client:
        ready, seconds = await timed(client.get("/health/ready"), "readiness")

    assert hanging.connections >= 1, "the control: readiness did ask the hanging PostgreSQL"
    assert ready.status_code == 503, ready.text
    assert ready.json()["checks"] == {"postgres": "down", "redis": "ok"}
    assert "postgres" in ready.json()["detail"]
    assert seconds < health_timeout + MARGIN_SECONDS, (
        f"readiness took {seconds:.1f} s: it must give up after HEALTH_CHECK_TIMEOUT_SECONDS "
        f"({health_timeout} s) whatever the connect timeout (app/health.py)"
    )
