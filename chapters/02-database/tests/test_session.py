"""Exercise database.session: a session maker that keeps values after commit, and a session
of its own for every request, closed when the request ends."""

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.dependencies import SessionDep

pytestmark = pytest.mark.exercise("database.session")

WHERE = "(exercise database.session)"


def add_session_probe(app: FastAPI) -> list[AsyncSession]:
    """A route of the test's own that receives `SessionDep` and reports what it got."""
    seen: list[AsyncSession] = []

    async def session_probe(session: SessionDep) -> dict[str, object]:
        seen.append(session)
        if not isinstance(session, AsyncSession):
            return {"session": type(session).__name__}
        await session.execute(text("SELECT 1"))  # holds a connection until the session closes
        engine = app.state.engine
        return {
            "session": "AsyncSession",
            "bound_to_app_engine": session.bind is engine,
            "connections_in_use": engine.pool.checkedout(),
        }

    app.add_api_route("/test-only/session", session_probe, methods=["GET"])
    return seen


async def test_the_sessionmaker_keeps_values_after_commit(app):
    maker = getattr(app.state, "sessionmaker", None)

    assert isinstance(maker, async_sessionmaker), (
        f"After start-up, app.state.sessionmaker should be an async_sessionmaker; found "
        f"{type(maker).__name__}. Make it in the lifespan in app/main.py {WHERE}."
    )
    assert maker.kw.get("bind") is getattr(app.state, "engine", None), (
        "app.state.sessionmaker should be bound to app.state.engine: "
        f"async_sessionmaker(engine, ...) {WHERE}."
    )
    assert maker.kw.get("expire_on_commit") is False, (
        "Pass expire_on_commit=False to async_sessionmaker: after a commit, reading an expired "
        "attribute needs a lazy load, which async SQLAlchemy refuses (MissingGreenlet) "
        f"{WHERE}."
    )


async def test_every_request_gets_its_own_session_closed_when_it_ends(app, client):
    seen = add_session_probe(app)

    answers = [(await client.get("/test-only/session")).json() for _ in range(2)]

    assert answers[0].get("session") == "AsyncSession", (
        f"A route that asks for SessionDep should receive an AsyncSession; it received "
        f"{answers[0].get('session')}. Yield a session from request.app.state.sessionmaker in "
        f"get_session (app/database.py) {WHERE}."
    )
    assert answers[0]["bound_to_app_engine"], (
        "The session should come from app.state.sessionmaker, bound to app.state.engine."
    )
    assert answers[0]["connections_in_use"] == 1, (
        "While the request runs, its session should hold one connection of the pool."
    )
    assert seen[0] is not seen[1], (
        f"Two requests received the same session object: a session is not safe to share "
        f"between requests. Open a new one in get_session each time {WHERE}."
    )
    in_use = app.state.engine.pool.checkedout()
    assert in_use == 0, (
        f"After the requests, {in_use} connection(s) are still checked out: the session must "
        f"be closed when the request ends. Yield it inside `async with ...() as session:` "
        f"{WHERE}."
    )
