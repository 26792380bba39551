"""Worked section deployment.failover (given code, no exercise marker): when PostgreSQL drops
the service's connections (a restart, a failover, an administrator), no request is handed a
dead connection, a request that loses its own answers 503, and one that already had its
answer keeps it.

Each test's app names its connections (settings.app_name, sent as PostgreSQL's
application_name), so the test terminates those and nobody else's on the shared server.
"""

import asyncio
from uuid import uuid4

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.dependencies import SessionDep

TERMINATE = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
    " WHERE application_name = :name AND datname = current_database()"
    " AND pid <> pg_backend_pid() AND (CAST(:pid AS integer) IS NULL OR pid = :pid)"
)


async def terminate_connections(settings, *, pid: int | None = None) -> int:
    """What a PostgreSQL restart does to the app: its connections (or one) are cut."""
    engine = create_async_engine(settings.database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            parameters = {"name": settings.app_name, "pid": pid}
            return len((await connection.execute(text(TERMINATE), parameters)).all())
    finally:
        await engine.dispose()


@pytest.fixture
def own_settings(settings):
    return settings.model_copy(update={"app_name": f"check-07-failover-{uuid4().hex[:8]}"})


def registration() -> dict[str, str]:
    return {"email": f"failover-{uuid4().hex[:10]}@example.com", "password": "s3cret-pw"}


async def test_connections_dropped_while_idle_never_reach_a_request(app_with, own_settings):
    async with app_with(app_name=own_settings.app_name) as (_, client):
        await asyncio.gather(*(client.post("/users", json=registration()) for _ in range(3)))
        dropped = await terminate_connections(own_settings)
        answers = [(await client.post("/users", json=registration())).status_code for _ in range(5)]

    assert dropped > 0, "The pool should have held idle connections for the test to drop."
    assert answers == [201] * 5, (
        f"After PostgreSQL dropped the pool's idle connections, requests answered {answers}: "
        "the pool handed out dead connections. create_engine_from (app/database.py) tests a "
        "connection before handing it out (pool_pre_ping=True)."
    )


async def test_a_connection_dropped_mid_request_is_an_outage_not_a_bug(app_with, own_settings):
    backend: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def slow_query(session: SessionDep) -> dict[str, str]:
        backend.set_result((await session.execute(text("SELECT pg_backend_pid()"))).scalar())
        await session.execute(text("SELECT pg_sleep(30)"))
        return {"status": "finished"}

    async with app_with(app_name=own_settings.app_name) as (app, client):
        app.add_api_route("/slow", slow_query)
        slow = asyncio.create_task(client.get("/slow"))
        dropped = await terminate_connections(own_settings, pid=await backend)
        response = await slow
        after = await client.post("/users", json=registration())

    assert dropped == 1, "The slow request's connection should have been the one dropped."
    assert response.status_code == 503, (
        f"A request whose connection broke under it answered {response.status_code}: "
        f"{response.text[:200]}. It is an outage to come back from (503 with Retry-After), "
        "not a bug (500): see handle_database_error in app/problems.py."
    )
    assert response.json().get("code") == "database_unavailable", response.text
    assert response.headers.get("Retry-After"), "A 503 tells the client when to come back."
    assert after.status_code == 201, f"The next request should succeed; got {after.text}."


async def test_a_connection_dropped_after_the_answer_is_not_an_error(app_with, own_settings):
    async def read_then_lose_the_connection(session: SessionDep) -> dict[str, bool]:
        await session.execute(text("SELECT 1"))  # the session now holds a connection
        await terminate_connections(own_settings)
        return {"answered": True}

    async with app_with(app_name=own_settings.app_name) as (app, _):
        app.add_api_route("/read-then-lose", read_then_lose_the_connection)
        # This client raises what the app raises after its answer: a real server would log
        # it and cut the connection, and the client's next request on it would fail.
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            try:
                response = await client.get("/read-then-lose")
            except Exception as error:
                pytest.fail(
                    f"The route had answered before its connection died, yet closing the "
                    f"session raised {type(error).__name__} ({error}). The session's ROLLBACK "
                    "fails on a connection that is gone, after the answer; close_session in "
                    "app/database.py lets such a connection go."
                )
            after = await client.post("/users", json=registration())

    assert response.status_code == 200, response.text
    assert after.status_code == 201, f"The next request should succeed; got {after.text}."
