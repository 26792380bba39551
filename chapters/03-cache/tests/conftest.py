"""Fixtures of chapter 03: settings for the test's own database and Redis prefix, the app
under its lifespan, a client, a counter of the SQL the app sends, a Redis client of the
test's own, a factory of users, and servers that misbehave as Redis does on a bad day.

The app keeps what its lifespan opens in `app.state.resources` (app/resources.py).

The plugin gives the session a database and a Redis namespace of its own; the tables are
created once, every test starts with them empty and writes its keys under a prefix of its own.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from uuid import UUID, uuid4

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.config import Settings
from app.database import Base
from app.main import create_app
from app.redis_client import redis_key
from app.users import service
from app.users.models import User  # importing it registers the users table on Base.metadata
from app.users.schemas import UserCreate


@pytest.fixture
def settings(
    request: pytest.FixtureRequest, database_url: str, redis_url: str, redis_namespace: str
) -> Settings:
    """The test's settings. A test changes some with
    `@pytest.mark.parametrize("settings", [{"name": value}], indirect=True)`."""
    values = {
        "redis_url": redis_url,
        # Every key the test's app writes lives under a prefix of the test's own.
        "redis_key_prefix": f"{redis_namespace}{uuid4().hex[:8]}:",
        # Generous: on a busy machine a short stall would make the cache fail open, and a
        # cache test pass or fail for the wrong reason. The fail-open tests set their own.
        "redis_socket_timeout_seconds": 5.0,
    }
    values.update(getattr(request, "param", {}))
    return Settings(
        _env_file=None,
        environment="test",
        database_url=database_url,
        allowed_hosts=["test"],
        **values,
    )


@pytest.fixture(scope="session")
def database_schema(database_url: str) -> None:
    """The tables, created once for the session's database from the models."""

    async def create_tables() -> None:
        engine = create_async_engine(database_url, poolclass=NullPool)
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        await engine.dispose()

    asyncio.run(create_tables())


async def empty_every_table(database_url: str) -> None:
    # Through an engine of the fixture's own, so setup never depends on the app under test.
    engine = create_async_engine(database_url, poolclass=NullPool)
    async with engine.begin() as connection:
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        await connection.execute(text(f"TRUNCATE {tables}"))
    await engine.dispose()


@pytest.fixture
async def app(settings: Settings, database_schema: None) -> AsyncIterator[FastAPI]:
    """The app under its lifespan (httpx's ASGITransport does not run it), tables emptied."""
    await empty_every_table(settings.database_url)
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        yield client


@dataclass
class QueryCounter:
    """The SQL statements the app's engine sent since the test asked for the counter."""

    attached: bool
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        assert self.attached, (
            "There is no engine in app.state.resources to count queries on: the lifespan in "
            "app/main.py should create it (chapter 02)."
        )
        return len(self.statements)

    def reset(self) -> None:
        self.statements.clear()


@pytest.fixture
def query_counter(app: FastAPI) -> Iterator[QueryCounter]:
    engine = app.state.resources.engine
    counter = QueryCounter(attached=engine is not None)
    if engine is None:  # fail inside the test, on an assertion, not in this fixture
        yield counter
        return

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        counter.statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    yield counter
    event.remove(engine.sync_engine, "before_cursor_execute", record)


@pytest.fixture
async def count_users(settings: Settings):
    """`await count_users()`: the rows in `users`, counted past the app (and its mistakes)."""
    engine = create_async_engine(settings.database_url, poolclass=NullPool)

    async def count() -> int:
        async with engine.connect() as connection:
            return (await connection.execute(select(func.count()).select_from(User))).scalar_one()

    yield count
    await engine.dispose()


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    """A Redis client of the test's own, to look at what the app wrote."""
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


CreateUser = Callable[..., Awaitable[UUID]]


@pytest.fixture
def create_user(app: FastAPI) -> CreateUser:
    """`user_id = await create_user()`: a user inserted through the service, past the cache."""

    async def factory(*, email: str | None = None, full_name: str | None = "Ada Lovelace") -> UUID:
        data = UserCreate(
            email=email or f"user-{uuid4().hex[:10]}@example.com", full_name=full_name
        )
        async with app.state.resources.sessionmaker() as session:
            user = await service.create_user(session, data=data)
        return user.id

    return factory


@pytest.fixture
def cache_key(settings: Settings) -> Callable[[UUID], str]:
    """`cache_key(user_id)`: where the app caches this user, `<the test's prefix>user:<id>`."""
    return lambda user_id: redis_key(settings, "user", user_id)


@pytest.fixture
async def hanging_redis() -> AsyncIterator["HangingServer"]:
    """A server that accepts connections and never answers: Redis stuck, or a black hole."""
    server = HangingServer()
    await server.start()
    yield server
    await server.stop()


class HangingServer:
    """Accepts TCP connections, reads whatever comes, answers nothing; counts connections."""

    def __init__(self) -> None:
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"redis://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/0"

    async def start(self) -> None:
        async def ignore(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            self._writers.append(writer)
            await reader.read()  # until the client hangs up

        self._server = await asyncio.start_server(ignore, "127.0.0.1", 0)

    async def stop(self) -> None:
        for writer in self._writers:
            writer.close()
        assert self._server is not None
        self._server.close()
