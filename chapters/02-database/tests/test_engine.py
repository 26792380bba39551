"""Exercise database.engine: the engine comes from the lifespan, sized by the settings, is kept
in the typed resources with its sessionmaker, and is disposed at shutdown."""

import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import event, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.main import create_app
from app.resources import Resources

pytestmark = pytest.mark.exercise("database.engine")

WHERE = "(exercise database.engine)"


def resources_of(app) -> Resources:
    resources = getattr(app.state, "resources", None)
    assert isinstance(resources, Resources), (
        f"After start-up, app.state.resources should hold the process's Resources "
        f"(app/resources.py); found {type(resources).__name__}. Make it in the lifespan in "
        f"app/main.py {WHERE}."
    )
    return resources


def engine_of(app) -> AsyncEngine:
    engine = resources_of(app).engine
    assert isinstance(engine, AsyncEngine), (
        f"app.state.resources.engine should be an AsyncEngine (create_engine_from, "
        f"app/database.py); it is a {type(engine).__name__} {WHERE}."
    )
    return engine


async def test_the_engine_is_made_at_start_up_not_by_create_app(settings):
    app = create_app(settings)

    assert not hasattr(app.state, "resources"), (
        "create_app() already made the resources: make them in the lifespan, so that nothing "
        f"connects until the server starts and every test gets a fresh pool {WHERE}."
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


async def test_the_sessionmaker_is_bound_to_the_engine_and_keeps_values_after_commit(app):
    resources = resources_of(app)

    maker = resources.sessionmaker
    assert isinstance(maker, async_sessionmaker), (
        f"app.state.resources.sessionmaker should be an async_sessionmaker; found "
        f"{type(maker).__name__} {WHERE}."
    )
    assert maker.kw.get("bind") is resources.engine, (
        "The sessionmaker should be bound to the resources' engine, the one pool of the "
        f"process, not to an engine of its own {WHERE}."
    )
    assert maker.kw.get("expire_on_commit") is False, (
        "The sessions should keep their values after a commit (expire_on_commit=False): "
        "reading an expired attribute needs a lazy load, which async SQLAlchemy refuses "
        f"(MissingGreenlet). Make the sessionmaker so in the lifespan (app/main.py) {WHERE}."
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
        f"Size it in create_engine_from (app/database.py) {WHERE}."
    )
    assert connect_arguments.get("timeout") == 2.5, (
        f"With DATABASE_CONNECT_TIMEOUT_SECONDS=2.5, asyncpg should give up connecting after "
        f"2.5 s instead of its default 60 s; it was called with timeout="
        f"{connect_arguments.get('timeout')}. asyncpg's own arguments reach it through "
        f"create_async_engine's connect_args (app/database.py) {WHERE}."
    )


async def test_the_engine_is_disposed_at_shutdown(settings):
    app = create_app(settings)

    async with LifespanManager(app):
        engine = engine_of(app)
        async with engine.connect() as connection:  # leaves one open connection in the pool
            await connection.execute(text("SELECT 1"))
        pool_before = engine.pool
        assert pool_before.checkedin() == 1, "The pool should keep the connection it opened."

    assert pool_before.checkedin() == 0, (
        "After shutdown the engine's pooled connection is still open: dispose of the engine "
        "when the lifespan ends, in a `finally`, so it also happens when the server stops on "
        f"an error (app/main.py) {WHERE}."
    )


class ServerStopped(Exception):
    """What ends the lifespan here: an error while the app serves (a crash, a cancellation)."""


async def test_the_engine_is_disposed_when_the_server_stops_on_an_error(settings):
    app = create_app(settings)

    # The lifespan as the server runs it, with an error thrown in while the app is serving:
    # the code after `yield` runs then only when it sits in a `finally`.
    try:
        async with app.router.lifespan_context(app):
            engine = engine_of(app)
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            pool = engine.pool
            raise ServerStopped
    except ServerStopped:
        pass

    assert pool.checkedin() == 0, (
        "The server stopped on an error while the app was serving, and the engine's pooled "
        "connection was left open: the engine is disposed only when the lifespan ends "
        "normally. Put `await engine.dispose()` in a `finally` around the lifespan's `yield` "
        f"(app/main.py) {WHERE}."
    )
