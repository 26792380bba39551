"""Worked section performance.read_pool: the user cache reads through a pool of its own,
without pre-ping, one autocommit statement per load, sent again once on a dropped connection.

The chapter gives this code (app/database.py, app/users/cache.py, app/main.py): these tests
pass before and after the exercises.
"""

from sqlalchemy import event, text

from app.users.cache import UserCache


def cache_of(app) -> UserCache:
    resources = app.state.resources
    return UserCache(
        redis=resources.redis,
        engine=resources.read_engine,
        settings=resources.settings,
        flights=resources.flights,
    )


async def test_a_cache_load_is_one_autocommit_statement_on_the_read_pool(app, create_user):
    user = await create_user()
    sent: list[tuple[str, str, str | None]] = []
    engines = {
        "sessions": app.state.resources.engine.sync_engine,
        "cache reads": app.state.resources.read_engine.sync_engine,
    }
    listeners = []
    for name, engine in engines.items():

        def record(conn, cursor, statement, parameters, context, executemany, name=name):
            isolation = conn.get_execution_options().get("isolation_level")
            sent.append((name, " ".join(statement.split())[:60], isolation))

        event.listen(engine, "before_cursor_execute", record)
        listeners.append((engine, record))
    try:
        loaded = await cache_of(app).get_user(user.id)
    finally:
        for engine, record in listeners:
            event.remove(engine, "before_cursor_execute", record)

    assert loaded.id == user.id
    assert [(pool, isolation) for pool, _, isolation in sent] == [("cache reads", "AUTOCOMMIT")], (
        f"A cache load should send one statement, on the read pool, in autocommit; sent {sent}"
    )


async def test_the_read_pool_skips_the_pre_ping_the_sessions_keep(app):
    settings = app.state.settings
    read_pool = app.state.resources.read_engine.pool
    sessions_pool = app.state.resources.engine.pool

    assert (read_pool._pre_ping, sessions_pool._pre_ping) == (False, True), (
        "the read pool must not ping before each read; the sessions' pool must"
    )
    assert (read_pool.size(), read_pool._max_overflow) == (settings.database_read_pool_size, 0), (
        "the read pool keeps DATABASE_READ_POOL_SIZE connections and opens none beyond them"
    )


async def test_a_connection_dropped_while_idle_is_read_again_once(app, create_user):
    first, second = await create_user(), await create_user()
    cache = cache_of(app)
    await cache.get_user(first.id)  # the read pool now holds one idle connection
    async with app.state.resources.read_engine.connect() as connection:
        backend = await connection.scalar(text("SELECT pg_backend_pid()"))
    async with app.state.resources.engine.connect() as connection:
        # As PostgreSQL does on a restart or an idle timeout: the pool does not know yet.
        # (With a timeout, pg_terminate_backend returns once the backend is gone.)
        terminated = await connection.scalar(
            text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": backend}
        )
    attempts: list[str] = []
    read_engine = app.state.resources.read_engine.sync_engine

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        attempts.append(statement)

    event.listen(read_engine, "before_cursor_execute", record)
    try:
        loaded = await cache.get_user(second.id)
    finally:
        event.remove(read_engine, "before_cursor_execute", record)

    assert terminated, "PostgreSQL should have ended the read pool's idle connection"
    assert loaded.id == second.id, "the load should succeed on a fresh connection"
    assert len(attempts) == 2, (
        f"one attempt on the dead connection, one on a fresh one; sent {len(attempts)}"
    )
