"""Exercise database.engine: the engine comes from the lifespan, sized by the settings, and is
disposed at shutdown."""

import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import event, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app

pytestmark = pytest.mark.exercise("database.engine")

WHERE = "(exercise database.engine)"


def engine_of(app) -> AsyncEngine:
    engine = getattr(app.state, "engine", None)
    assert engine is not None, (
        "After start-up, app.state.engine should hold the app's AsyncEngine; it is missing. "
        f"Create it in the lifespan (app/main.py) with create_engine_from(app.state.settings) "
        f"{WHERE}."
    )
    assert isinstance(engine, AsyncEngine), (
        f"app.state.engine should be an AsyncEngine (create_async_engine); it is a "
        f"{type(engine).__name__} {WHERE}."
    )
    return engine


async def test_the_engine_is_made_at_start_up_not_by_create_app(settings):
    app = create_app(settings)

    assert not hasattr(app.state, "engine"), (
        "create_app() already made an engine: make it in the lifespan, so that nothing "
        "connects until the server starts and every test gets a fresh one."
    )
    async with LifespanManager(app):
        engine = engine_of(app)
        async with engine.connect() as connection:
            database = await connection.scalar(text("SELECT current_database()"))

    expected = make_url(settings.database_url)
    assert engine.url.render_as_string(hide_password=False) == expected.render_as_string(
        hide_password=False
    ), f"The engine should use settings.database_url; it uses {engine.url!r} {WHERE}."
    assert database == expected.database, (
        f"The engine talked to the database {database!r} instead of {expected.database!r}."
    )


async def test_the_pool_and_the_connect_timeout_come_from_the_settings(settings):
    sized = settings.model_copy(
        update={
            "database_pool_size": 3,
            "database_max_overflow": 2,
            "database_pool_timeout_seconds": 1.5,
            "database_pool_recycle_seconds": 600,
            "database_connect_timeout_seconds": 2.5,
        }
    )
    app = create_app(sized)
    connect_arguments: dict = {}

    def record(dialect, connection_record, cargs, cparams) -> None:
        connect_arguments.update(cparams)  # what asyncpg.connect() is about to receive

    async with LifespanManager(app):
        engine = engine_of(app)
        event.listen(engine.sync_engine, "do_connect", record)
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        pool = engine.pool

    found = {
        "pool_size": pool.size() if hasattr(pool, "size") else None,
        "max_overflow": getattr(pool, "_max_overflow", None),
        "pool_timeout": getattr(pool, "_timeout", None),
        "pool_recycle": getattr(pool, "_recycle", None),
    }
    expected = {"pool_size": 3, "max_overflow": 2, "pool_timeout": 1.5, "pool_recycle": 600}
    assert found == expected, (
        f"With DATABASE_POOL_SIZE=3, DATABASE_MAX_OVERFLOW=2, DATABASE_POOL_TIMEOUT_SECONDS=1.5 "
        f"and DATABASE_POOL_RECYCLE_SECONDS=600 the pool should be {expected}; it is {found}. "
        f"Pass them to create_async_engine in create_engine_from (app/database.py) {WHERE}."
    )
    assert connect_arguments.get("timeout") == 2.5, (
        f"With DATABASE_CONNECT_TIMEOUT_SECONDS=2.5, asyncpg should give up connecting after "
        f"2.5 s instead of its default 60 s; it was called with timeout="
        f'{connect_arguments.get("timeout")}. Pass connect_args={{"timeout": ...}} to '
        f"create_async_engine in create_engine_from (app/database.py) {WHERE}."
    )


async def test_the_engine_is_disposed_at_shutdown(settings):
    app = create_app(settings)

    async with LifespanManager(app):
        engine = engine_of(app)
        async with engine.connect() as connection:  # leaves one open connection in the pool
            await connection.execute(text("SELECT 1"))
        pool_before = engine.pool
        assert pool_before.checkedin() == 1, "The pool should keep the connection it opened."

    assert engine.pool is not pool_before, (
        "After shutdown the engine's pooled connections are still open: call "
        f"`await engine.dispose()` in the lifespan's finally block (app/main.py) {WHERE}."
    )
    assert pool_before.checkedin() == 0, "dispose() should close the idle connections."
