"""Fixtures of chapter 02: settings for the test's own database, the app under its lifespan,
a client, and a counter of the SQL the app sends.

The app keeps what its lifespan opens in `app.state.resources` (app/resources.py).

The plugin gives the session a database of its own; the tables are created once, and every
test starts with them empty.
"""

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.config import Settings
from app.database import Base
from app.main import create_app
from app.users.models import User  # importing it registers the users table on Base.metadata


@pytest.fixture
def settings(database_url: str) -> Settings:
    # PostgreSQL only: this chapter has no Redis yet.
    return Settings(
        _env_file=None, environment="test", database_url=database_url, allowed_hosts=["test"]
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
    # Through an engine of the fixture's own: the app's may not exist yet (database.engine).
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
            "There is no engine in app.state.resources to count queries on: make it in the "
            "lifespan first (exercise database.engine)."
        )
        return len(self.statements)

    def reset(self) -> None:
        self.statements.clear()


@pytest.fixture
def query_counter(app: FastAPI) -> Iterator[QueryCounter]:
    engine = getattr(getattr(app.state, "resources", None), "engine", None)
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
