"""Regression tests for the bugs the reliability suite found in final/app, one per fix."""

import asyncio
from uuid import UUID, uuid4

import httpx
import jsonschema
import pytest
from final_helpers import (
    DEFAULT_PASSWORD,
    client_for,
    make_settings,
    running_app,
    user_cache_of,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.dependencies import SessionDep
from harness.reliability.stack import production_http_flags

A_USER_ID = "3f1c0e0a-8a8e-4d38-9f57-0f3a2b1c4d5e"


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/users", {"GET", "POST"}),
        ("/users/me", {"GET", "PATCH", "DELETE"}),
        (f"/users/{A_USER_ID}", {"GET", "PATCH", "DELETE"}),
    ],
    ids=["/users", "/users/me", "/users/{id}"],
)
async def test_a_405_lists_every_method_of_the_resource_in_allow(client, path, methods):
    """Found by Schemathesis (ST205): `OPTIONS /users` answered `Allow: POST`, leaving out GET,
    because Starlette names only the methods of the first route that matches the path."""
    response = await client.request("OPTIONS", path)

    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert allowed == methods, f"{path}: Allow lists {sorted(allowed)}, not {sorted(methods)}"
    for method in allowed:
        answer = await client.request(method, path)
        assert answer.status_code != 405, f"Allow names {method} {path}, which answers 405"


def _accepted_by_schema(openapi: dict, component: str, body: dict) -> bool:
    schema = {"$ref": f"#/components/schemas/{component}", "components": openapi["components"]}
    return jsonschema.Draft202012Validator(schema).is_valid(body)


def _account() -> dict:
    return {"email": f"rel-{uuid4().hex[:12]}@example.com", "password": "password123"}


VALID_ACCOUNT = {"email": "schema@example.com", "password": "password123"}
# (who, route, request schema, body, accepted?): what the schema says must be what happens.
SCHEMA_AGREEMENT = [
    ("anyone", "POST /users", "UserCreate", {**VALID_ACCOUNT, "full_name": "Zoë Ünal"}, True),
    ("anyone", "POST /users", "UserCreate", {**VALID_ACCOUNT, "full_name": "Ada\x06"}, False),
    ("anyone", "POST /users", "UserCreate", {**VALID_ACCOUNT, "full_name": "\x1b[31m"}, False),
    ("anyone", "POST /users", "UserCreate", {**VALID_ACCOUNT, "full_name": "   "}, False),
    ("user", "PATCH /users/me", "AccountUpdate", {"full_name": None}, True),
    ("user", "PATCH /users/me", "AccountUpdate", {"email": None}, False),
    ("user", "PATCH /users/me", "AccountUpdate", {"password": None}, False),
    ("user", "PATCH /users/me", "AccountUpdate", {"email": "new@example.com"}, False),
    (
        "user",
        "PATCH /users/me",
        "AccountUpdate",
        {"email": "new@example.com", "current_password": DEFAULT_PASSWORD},
        True,
    ),
    ("admin", "PATCH /users/{id}", "AdminUserUpdate", {"role": "admin"}, True),
    ("admin", "PATCH /users/{id}", "AdminUserUpdate", {"role": None}, False),
]


def _case_id(route: str, body: dict) -> str:
    """The route and the fields that make the case (not the valid account around them)."""
    fields = {k: v for k, v in body.items() if k not in VALID_ACCOUNT or VALID_ACCOUNT[k] != v}
    return f"{route} " + ", ".join(f"{name}={value!r}" for name, value in fields.items())


@pytest.mark.parametrize(
    ("who", "route", "component", "body", "accepted"),
    SCHEMA_AGREEMENT,
    ids=[_case_id(route, body) for _, route, _, body, _ in SCHEMA_AGREEMENT],
)
async def test_the_openapi_schema_accepts_exactly_what_the_service_accepts(
    client, create_user, login, admin_tokens, who, route, component, body, accepted
):
    """Found by Schemathesis (ST202): the schema offered `null` for email, password and role
    and any string as a name, and the service then refused them with 422. A client generated
    from the schema must not be refused for following it."""
    openapi = (await client.get("/openapi.json")).json()
    target = await create_user()
    if who == "anyone":
        response = await client.post("/users", json=body)
    elif who == "user":
        response = await client.patch("/users/me", json=body, headers=(await login(target)).headers)
    else:
        response = await client.patch(
            f"/users/{target.id}", json=body, headers=admin_tokens.headers
        )

    assert _accepted_by_schema(openapi, component, body) is accepted, f"the schema of {route}"
    assert (response.status_code < 300) is accepted, f"{route} answered {response.status_code}"


async def test_a_refused_host_is_a_problem_document(client):
    """A known gap of final/: Starlette's host check answered a plain-text 400."""
    response = await client.get("/health/live", headers={"Host": "attacker.example"})

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 400
    assert body["code"] == "bad_request"
    assert body["detail"] == "Invalid host header"
    assert body["request_id"] == response.headers["X-Request-ID"]


async def test_a_refused_cors_preflight_is_a_problem_document(client):
    """Found by the attacks on origins: a preflight from an unknown origin got a plain-text
    400 from Starlette's CORS middleware."""
    response = await client.options(
        "/users/me",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "DELETE"},
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "Disallowed CORS origin"
    assert "Access-Control-Allow-Origin" not in response.headers


async def _refresh(client, tokens) -> int:
    response = await client.post("/auth/refresh", json={"refresh_token": tokens.refresh_token})
    return response.status_code


async def test_a_new_password_signs_out_every_other_login(client, create_user, login):
    """A known gap of final/: a thief's session (another login) outlived a password change.
    The login that changes the password stays signed in; every other one is ended."""
    user = await create_user()
    mine, thief = await login(user), await login(user)

    changed = await client.patch(
        "/users/me",
        json={"password": "a brand new passphrase", "current_password": user.password},
        headers=mine.headers,
    )

    assert changed.status_code == 200
    thief_read = await client.get("/users/me", headers=thief.headers)
    assert thief_read.status_code == 401, "the other login's access token must be refused"
    assert thief_read.json()["code"] == "login_ended"
    assert await _refresh(client, thief) == 401, "and its refresh token too"
    assert (await client.get("/users/me", headers=mine.headers)).status_code == 200
    assert await _refresh(client, mine) == 200, "the login that changed it stays signed in"


async def test_an_admin_setting_a_password_signs_out_every_login(
    client, create_user, login, admin_tokens
):
    """An admin resetting a password (say, of a stolen account) revokes all its logins."""
    user = await create_user()
    tokens = await login(user)

    reset = await client.patch(
        f"/users/{user.id}", json={"password": "reset by the admin"}, headers=admin_tokens.headers
    )

    assert reset.status_code == 200
    assert (await client.get("/users/me", headers=tokens.headers)).status_code == 401
    assert await _refresh(client, tokens) == 401


async def test_no_password_change_without_redis_to_revoke_the_other_logins(
    client, app, create_user, login
):
    """Fails closed: if the other logins cannot be revoked, the password is not changed."""
    user = await create_user()
    tokens = await login(user)
    # Authentication succeeds; then listing the user's logins fails, as if Redis had died.
    real_zrange = app.state.resources.redis.zrange

    async def redis_down(*args, **kwargs):
        raise RedisConnectionError("Redis went away")

    app.state.resources.redis.zrange = redis_down
    try:
        response = await client.patch(
            "/users/me",
            json={"password": "a brand new passphrase", "current_password": user.password},
            headers=tokens.headers,
        )
    finally:
        app.state.resources.redis.zrange = real_zrange
    old = await client.post("/auth/token", data={"username": user.email, "password": user.password})

    assert response.status_code == 503
    assert response.json()["code"] == "auth_unavailable"
    assert old.status_code == 200, "the old password must still be the password"


# --- PostgreSQL dropping the service's connections (found by the fault drill) -------------


@pytest.fixture
async def own_connections_app(database_url, redis_url, redis_namespace, database_schema):
    """An app whose PostgreSQL connections carry a name of their own, so a test may
    terminate them without touching anyone else's."""
    app_name = f"rel-regression-{uuid4().hex[:8]}"
    settings = make_settings(database_url, redis_url, redis_namespace, app_name=app_name)
    async with running_app(settings) as app:
        yield app


async def _terminate_own_connections(app, *, pid: int | None = None) -> int:
    """pg_terminate_backend on the app's connections (or on one of them, by pid)."""
    query = (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"
        " AND datname = current_database() AND pid <> pg_backend_pid()"
        " AND (CAST(:pid AS integer) IS NULL OR pid = :pid)"
    )
    engine = create_async_engine(app.state.settings.database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            name = app.state.settings.app_name
            return len((await connection.execute(text(query), {"name": name, "pid": pid})).all())
    finally:
        await engine.dispose()


async def test_connections_dropped_while_idle_never_reach_a_request(own_connections_app):
    """The fault drill's first 500s: after PostgreSQL terminated the pool's idle connections
    (a restart, a failover, an administrator), the next requests were handed the corpses."""
    app = own_connections_app
    async with client_for(app) as client:
        await asyncio.gather(*(client.post("/users", json=_account()) for _ in range(5)))
        assert await _terminate_own_connections(app) > 0, "the pool held connections to drop"

        answers = [(await client.post("/users", json=_account())).status_code for _ in range(8)]

    assert answers == [201] * 8, "pre-ping replaces each dropped connection unseen"


async def test_a_user_load_on_a_dropped_connection_is_sent_again(own_connections_app):
    """The user cache's pool skips the pre-ping (a round trip on every read, the largest
    single cost of an uncached read): a load handed a connection PostgreSQL dropped while
    idle is retried once, on a fresh connection, and the caller never sees the corpse."""
    app = own_connections_app
    cache = user_cache_of(app)
    async with client_for(app) as client:
        created = [await client.post("/users", json=_account()) for _ in range(3)]
    user_ids = [UUID(response.json()["id"]) for response in created]
    for user_id in user_ids:  # the loads' pool now holds an idle connection
        await cache.load(user_id)
    assert await _terminate_own_connections(app) > 0, "the pools held connections to drop"

    reloaded = [(await cache.load(user_id)).id for user_id in user_ids]

    assert reloaded == user_ids


async def test_a_connection_dropped_mid_request_is_a_503_not_a_500(own_connections_app):
    """A request whose connection dies under it cannot succeed, but it is an outage (503
    with Retry-After), not a bug (500); asyncpg's errors were not all recognised."""
    app = own_connections_app
    running: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def slow_query(session: SessionDep) -> dict:
        running.set_result((await session.execute(text("SELECT pg_backend_pid()"))).scalar())
        await session.execute(text("SELECT pg_sleep(30)"))
        return {}

    app.add_api_route("/slow", slow_query)
    async with client_for(app, raise_app_exceptions=False) as client:
        slow = asyncio.create_task(client.get("/slow"))
        assert await _terminate_own_connections(app, pid=await running) == 1
        response = await slow
        after = await client.post("/users", json=_account())

    assert response.status_code == 503, response.text
    assert response.json()["code"] == "database_unavailable"
    assert response.headers["Retry-After"]
    assert after.status_code == 201


async def test_a_connection_dropped_after_the_answer_is_not_an_error(own_connections_app):
    """The session closes after the answer is sent; when its connection had died by then,
    the failed ROLLBACK raised after the response had started, and uvicorn cut the
    connection of the client's next request."""
    app = own_connections_app

    async def read_then_lose_the_connection(session: SessionDep) -> dict:
        await session.execute(text("SELECT 1"))  # the session now holds a connection
        await _terminate_own_connections(app)
        return {"answered": True}

    app.add_api_route("/read-then-lose", read_then_lose_the_connection)
    async with client_for(app) as client:  # an error after the answer would raise here
        response = await client.get("/read-then-lose")

    assert response.status_code == 200


# --- oversized headers (found by the attacks on the running server) ------------------------


def _status_or_closed(url: str, headers) -> int | str:
    """The status, or "closed" when the server hung up while the request was still coming."""
    try:
        return httpx.get(url, headers=headers).status_code
    except httpx.TransportError:
        return "closed"


def test_the_shipped_server_refuses_oversized_headers_and_keeps_serving(rel_stack, tmp_path):
    """uvicorn's default parser (httptools) buffered headers of any size: a 100 MB header was
    read and answered 200, so a few such requests could exhaust the memory. The image now
    runs h11 with a 16 KiB cap, and the suite's servers run with the image's flags."""
    assert production_http_flags() == ["--http", "h11", "--h11-max-incomplete-event-size", "16384"]
    server = rel_stack.server("headers", rel_stack.settings("headers"), tmp_path).start()
    url = f"{server.url}/health/live"
    try:
        big_but_fine = _status_or_closed(url, {"Cookie": "c" * 8_000})
        huge = _status_or_closed(url, {"X-Huge": "h" * 1_000_000})
        many = _status_or_closed(url, [(f"X-{number}", "v" * 1000) for number in range(200)])
        after = _status_or_closed(url, {})
    finally:
        server.stop()

    assert big_but_fine == 200, "a large cookie or token still fits"
    assert huge in {400, 431, "closed"}, f"a 1 MB header was answered {huge}"
    assert many in {400, 431, "closed"}, f"200 headers of 1 kB were answered {many}"
    assert after == 200, "the server keeps serving"
