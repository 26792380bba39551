"""Exercise deployment.readiness: 200 when PostgreSQL and Redis answer, 503 naming what is down."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.main import create_app

pytestmark = pytest.mark.exercise("deployment.readiness")

WHERE = "Write GET /health/ready in app/health.py (exercise deployment.readiness)."
REFUSED_POSTGRES = "postgresql+asyncpg://users:users@127.0.0.1:1/users"  # nothing listens there
REFUSED_REDIS = "redis://127.0.0.1:1/0"


@asynccontextmanager
async def client_with(settings, **overrides) -> AsyncIterator[AsyncClient]:
    """A client of the app with these settings (no tables touched: PostgreSQL may be down)."""
    application = create_app(settings.model_copy(update=overrides))
    transport = ASGITransport(app=application, raise_app_exceptions=False)
    async with (
        LifespanManager(application),
        AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield client


@asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """A TCP server that accepts connections and never answers: a hung dependency."""
    open_writers: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        open_writers.append(writer)
        await reader.read()  # until the client gives up and closes

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in open_writers:
            writer.close()
        await server.wait_closed()


@asynccontextmanager
async def relays_that_wait_for_each_other(
    targets: dict[str, Callable[[], Awaitable[tuple]]],
) -> AsyncIterator[dict[str, int]]:
    """A TCP relay in front of each server ({name: how to connect to it}). A relay forwards
    nothing until every relay has been connected to: checks made at the same time get through,
    a check that waits for the other's answer before starting waits alone until it gives up."""
    connected = {name: asyncio.Event() for name in targets}
    tasks: set[asyncio.Task] = set()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    def relay(name: str):
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            connected[name].set()
            try:
                await asyncio.gather(*(event.wait() for event in connected.values()))
                upstream_reader, upstream_writer = await targets[name]()
            except (OSError, asyncio.CancelledError):
                writer.close()
                return
            both = [pipe(reader, upstream_writer), pipe(upstream_reader, writer)]
            task = asyncio.ensure_future(asyncio.gather(*both))
            tasks.add(task)
            await task

        return serve

    async with AsyncExitStack() as stack:
        ports = {}
        for name in targets:
            server = await asyncio.start_server(relay(name), "127.0.0.1", 0)
            stack.push_async_callback(server.wait_closed)
            stack.callback(server.close)
            ports[name] = server.sockets[0].getsockname()[1]
        try:
            yield ports
        finally:
            for task in tasks:
                task.cancel()


def connector(url: str, default_port: int) -> Callable[[], Awaitable[tuple]]:
    """How to open a connection to the server of a URL: TCP, or PostgreSQL's Unix socket when
    the URL names its directory (`?host=/path`, as the embedded PostgreSQL's does)."""
    parts = urlsplit(url)
    port = parts.port or default_port
    socket_directory = parse_qs(parts.query).get("host", [""])[0]
    if not parts.hostname and socket_directory.startswith("/"):
        path = f"{socket_directory}/.s.PGSQL.{port}"
        return lambda: asyncio.open_unix_connection(path)
    return lambda: asyncio.open_connection(parts.hostname or "127.0.0.1", port)


def through_port(url: str, port: int) -> str:
    """The URL pointed at 127.0.0.1:port over TCP (a socket directory in the query dropped)."""
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@127.0.0.1:{port}" if credentials else f"127.0.0.1:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "host"])
    return urlunsplit(parts._replace(netloc=netloc, query=query))


REQUEST_ID = "readiness-check-07"


async def get_ready(client: AsyncClient, *, within: float | None = None, what: str = ""):
    """GET /health/ready with a request id of ours; `within` seconds at most, else the test
    fails saying the probe hung while `what`."""
    if within is None:
        return await client.get("/health/ready", headers={"X-Request-ID": REQUEST_ID})
    response = None
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(within):
            response = await get_ready(client)
    assert response is not None, (
        f"GET /health/ready was still waiting after {within:g} s while {what} "
        "(health_check_timeout_seconds is 0.2 here): the orchestrator's probe would have given up "
        "long before. Bound each check by settings.health_check_timeout_seconds and count a "
        f"timeout as down. {WHERE}"
    )
    return response


def readiness_problem(response, *, down: str) -> dict:
    assert response.status_code == 503, (
        f"While {down}, GET /health/ready should answer 503, so the load balancer stops "
        f"sending traffic here; it answered {response.status_code}: {response.text[:200]}. "
        f"{WHERE}"
    )
    assert response.headers.get("content-type", "").startswith("application/problem+json"), (
        f"The 503 should be a problem (app/problems.py's problem()); got {response.text!r}."
    )
    body = response.json()
    assert body.get("code") == "not_ready", f"`code` should be 'not_ready'; got {body}. {WHERE}"
    given = {"instance": body.get("instance"), "request_id": body.get("request_id")}
    assert given == {"instance": "/health/ready", "request_id": REQUEST_ID}, (
        f"The 503 should carry `instance` (the path asked: /health/ready) and `request_id` "
        f"(the X-Request-ID the request came with, here {REQUEST_ID!r}), as every problem of "
        f"the service does since chapter 05: they are how whoever is on call finds this "
        f"answer in the logs. Got {given}. Give problem() both, as chapter 05's handlers do. "
        f"{WHERE}"
    )
    return body


async def test_ready_when_postgres_and_redis_answer(client):
    response = await get_ready(client)

    assert response.status_code == 200, (
        f"With PostgreSQL and Redis up, GET /health/ready should answer 200; it answered "
        f"{response.status_code}. {WHERE}"
    )
    assert response.json() == {"status": "ok", "checks": {"postgres": "ok", "redis": "ok"}}, (
        f"The body should name each check: got {response.json()}. {WHERE}"
    )


async def test_not_ready_names_redis_when_redis_is_down(settings):
    async with client_with(settings, redis_url=REFUSED_REDIS) as client:
        response = await get_ready(client)

    body = readiness_problem(response, down="Redis is down")
    assert "redis" in body.get("detail", "").lower(), (
        f"The detail should name what is down (redis); got {body.get('detail')!r}. {WHERE}"
    )
    assert body.get("checks") == {"postgres": "ok", "redis": "down"}, (
        f'The problem should carry `checks`: {{"postgres": "ok", "redis": "down"}}; got '
        f"{body.get('checks')}. Pass checks=... to problem() as an extension. {WHERE}"
    )


async def test_not_ready_names_postgres_when_postgres_is_down(settings):
    async with client_with(settings, database_url=REFUSED_POSTGRES) as client:
        response = await get_ready(client)

    body = readiness_problem(response, down="PostgreSQL is down")
    assert "postgres" in body.get("detail", "").lower(), (
        f"The detail should name what is down (postgres); got {body.get('detail')!r}. {WHERE}"
    )
    assert body.get("checks") == {"postgres": "down", "redis": "ok"}, (
        f'The problem should carry `checks`: {{"postgres": "down", "redis": "ok"}}; got '
        f"{body.get('checks')}. {WHERE}"
    )


@pytest.mark.timeout(60)
async def test_a_hung_dependency_is_down_within_the_timeout(settings):
    # Both accept the connection and never answer. The drivers' own timeouts are a minute
    # here: only readiness's timeout of 0.2 s can answer in time.
    async with silent_server() as port:
        hung = {
            "database_url": f"postgresql+asyncpg://users:users@127.0.0.1:{port}/users",
            "database_connect_timeout_seconds": 60.0,
            "redis_url": f"redis://127.0.0.1:{port}/0",
            "redis_socket_timeout_seconds": 60.0,
            "health_check_timeout_seconds": 0.2,
        }
        async with client_with(settings, **hung) as client:
            response = await get_ready(
                client, within=10, what="PostgreSQL and Redis accept connections and never answer"
            )

    body = readiness_problem(response, down="PostgreSQL and Redis never answer")
    assert body.get("checks") == {"postgres": "down", "redis": "down"}, (
        f"Both hung servers should be reported down; got {body.get('checks')}. {WHERE}"
    )


@pytest.mark.timeout(60)
async def test_a_hung_postgres_does_not_make_redis_look_down(settings):
    # Only PostgreSQL hangs; Redis is the session's own and answers at once.
    async with silent_server() as port:
        hung = {
            "database_url": f"postgresql+asyncpg://users:users@127.0.0.1:{port}/users",
            "database_connect_timeout_seconds": 60.0,
            "health_check_timeout_seconds": 0.2,
        }
        async with client_with(settings, **hung) as client:
            response = await get_ready(
                client, within=10, what="PostgreSQL accepts connections and never answers"
            )

    body = readiness_problem(response, down="PostgreSQL never answers")
    assert body.get("checks") == {"postgres": "down", "redis": "ok"}, (
        'With only PostgreSQL hung, the checks should be {"postgres": "down", "redis": "ok"}; '
        f"got {body.get('checks')}. Each check needs its own timeout, so a hung PostgreSQL "
        "does not make Redis look down: one timeout around both throws Redis's answer away "
        f"with PostgreSQL's. {WHERE}"
    )


@pytest.mark.timeout(60)
async def test_both_checks_run_at_the_same_time(settings):
    targets = {
        "postgres": connector(settings.database_url, 5432),
        "redis": connector(settings.redis_url, 6379),
    }
    async with relays_that_wait_for_each_other(targets) as ports:
        through_relays = {
            "database_url": through_port(settings.database_url, ports["postgres"]),
            "redis_url": through_port(settings.redis_url, ports["redis"]),
            "health_check_timeout_seconds": 3.0,
        }
        async with client_with(settings, **through_relays) as client:
            response = await get_ready(client)

    assert response.status_code != 404, f"GET /health/ready does not exist yet. {WHERE}"
    assert response.status_code == 200, (
        "PostgreSQL and Redis answer here only to checks made at the same time, and your "
        f"readiness answered {response.status_code}: {response.text[:200]}. It waited for one "
        "check before starting the other, so a slow PostgreSQL also delays the answer about "
        "Redis, and the probe takes the sum of both timeouts. Start both checks at once "
        f"(asyncio.gather) and wait for them together. {WHERE}"
    )


async def test_liveness_stays_up_while_readiness_is_down(settings):
    async with client_with(settings, database_url=REFUSED_POSTGRES, redis_url=REFUSED_REDIS) as c:
        ready = await get_ready(c)
        live = await c.get("/health/live")

    readiness_problem(ready, down="PostgreSQL and Redis are down")
    assert live.status_code == 200, (
        "Liveness checks nothing: with the dependencies down the process is still alive, and "
        "restarting it would not help. GET /health/live must stay 200."
    )
