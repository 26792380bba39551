"""Exercise database.session: a session of its own for every request, from the process's
sessionmaker, closed when the request ends, also when the route raises."""

import pytest
from fastapi import FastAPI, HTTPException
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.dependencies import SessionDep

pytestmark = pytest.mark.exercise("database.session")

WHERE = "Finish get_session in app/dependencies.py (exercise database.session)."


def engine_of(app: FastAPI):
    resources = getattr(app.state, "resources", None)
    assert resources is not None, (
        "app.state.resources is missing, so there is no sessionmaker to make sessions from: "
        "do exercise database.engine first."
    )
    return resources.engine


def add_session_probes(app: FastAPI) -> list[object]:
    """Routes of the test's own that receive `SessionDep`: one reports what it got, the other
    uses its session and then fails, as a route that raises HTTPException does."""
    seen: list[object] = []

    async def session_probe(session: SessionDep) -> dict[str, object]:
        seen.append(session)
        if not isinstance(session, AsyncSession):
            return {"session": type(session).__name__}
        await session.execute(text("SELECT 1"))  # holds a connection until the session closes
        engine = app.state.resources.engine
        return {
            "session": "AsyncSession",
            "bound_to_app_engine": session.bind is engine,
            "connections_in_use": engine.pool.checkedout(),
        }

    async def failing_probe(session: SessionDep) -> None:
        seen.append(session)
        if isinstance(session, AsyncSession):
            await session.execute(text("SELECT 1"))
        raise HTTPException(status_code=418, detail="the route failed after using its session")

    app.add_api_route("/test-only/session", session_probe, methods=["GET"])
    app.add_api_route("/test-only/failing", failing_probe, methods=["GET"])
    return seen


async def test_every_request_gets_its_own_session_closed_when_it_ends(app, client):
    engine = engine_of(app)
    seen = add_session_probes(app)

    answers = [(await client.get("/test-only/session")).json() for _ in range(2)]

    assert answers[0].get("session") == "AsyncSession", (
        f"A route that asks for SessionDep should receive an AsyncSession; it received "
        f"{answers[0].get('session')}. {WHERE}"
    )
    assert answers[0]["bound_to_app_engine"], (
        "The session should come from the process's sessionmaker "
        f"(app.state.resources.sessionmaker), bound to its engine. {WHERE}"
    )
    assert answers[0]["connections_in_use"] == 1, (
        "While the request runs, its session should hold one connection of the pool."
    )
    assert seen[0] is not seen[1], (
        f"Two requests received the same session object: a session is one unit of work and "
        f"is not safe to share between requests. Make a new one for each request. {WHERE}"
    )
    in_use = engine.pool.checkedout()
    assert in_use == 0, (
        f"After the requests, {in_use} connection(s) are still checked out: close the session "
        f"when the request ends (a session used as an async context manager closes itself "
        f"when its block ends). {WHERE}"
    )


async def test_the_session_is_closed_when_the_route_raises(app, client):
    engine = engine_of(app)
    seen = add_session_probes(app)

    statuses = [(await client.get("/test-only/failing")).status_code for _ in range(3)]

    assert statuses == [418, 418, 418], f"The failing probe answered {statuses}."
    assert all(isinstance(session, AsyncSession) for session in seen), (
        f"A route that asks for SessionDep should receive an AsyncSession; it received "
        f"{type(seen[0]).__name__}. {WHERE}"
    )
    in_use = engine.pool.checkedout()
    assert in_use == 0, (
        f"Three requests whose route raised after using its session left {in_use} "
        f"connection(s) checked out: FastAPI throws the route's exception into the dependency "
        f"at its `yield`, so a close written after the `yield` never runs. Close the session "
        f"however the request ends: yield it inside `async with` (or try/finally). {WHERE}"
    )
