"""Every log line a request writes carries its request id: the access line, and the warnings
and errors on the way (a limiter or cache failing open, a revocation check failing closed,
a slow query), also those written by a task the request started."""

import io
import json
import logging
from collections.abc import Awaitable

import pytest
from final_helpers import client_for, make_settings, override_user_cache, running_app
from redis.asyncio import Redis

from app.logs import HANDLER_NAME
from app.security.tokens import encode_token, new_claims

DEAD_REDIS_URL = "redis://127.0.0.1:1/0"
PASSWORD = "password123"


async def lines_written_during(request: Awaitable) -> tuple[object, list[dict]]:
    """(the response, every line the app's JSON handler wrote while it was being served)."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == HANDLER_NAME)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        response = await request
    finally:
        handler.setStream(previous)
    lines = [json.loads(line) for line in buffer.getvalue().splitlines() if line]
    # The test's own HTTP client logs through the same root logger: not a line of the service.
    return response, [line for line in lines if line["logger"] != "httpx"]


def assert_every_line_carries(lines: list[dict], response, *, expect: str) -> None:
    request_id = response.headers["X-Request-ID"]
    assert any(line["message"] == "request" for line in lines), "the control: the access line"
    assert any(expect in line["message"] for line in lines), (
        f"the control: the request should have logged {expect!r}; it logged "
        f"{[line['message'] for line in lines]}"
    )
    unmarked = [line for line in lines if line.get("request_id") != request_id]
    assert unmarked == [], (
        f"every line of request {request_id} must carry its request_id (app/logs.py's filter "
        f"reads the context variable the middleware sets); these do not: {unmarked}"
    )


@pytest.fixture
async def dead_redis_client(database_url, redis_namespace, database_schema):
    """A client of an app whose Redis is down, with one registered user."""
    settings = make_settings(database_url, DEAD_REDIS_URL, redis_namespace)
    async with running_app(settings) as app, client_for(app) as client:
        created = await client.post("/users", json={"email": "d@example.com", "password": PASSWORD})
        assert created.status_code == 201, created.text
        client.settings = settings  # for tests that make a token themselves
        client.user_id = created.json()["id"]
        yield client


async def test_a_login_failing_open_logs_its_warnings_with_its_request_id(dead_redis_client):
    response, lines = await lines_written_during(
        dead_redis_client.post(
            "/auth/token",
            data={"username": "d@example.com", "password": PASSWORD},
            headers={"X-Request-ID": "login-with-redis-down"},
        )
    )

    assert response.status_code == 503, "the limiters fail open, the login store closed"
    assert response.headers["X-Request-ID"] == "login-with-redis-down"
    assert any(line["level"] == "WARNING" for line in lines)
    assert any(line["level"] == "ERROR" for line in lines)
    assert_every_line_carries(lines, response, expect="rate limiter unavailable")
    assert_every_line_carries(lines, response, expect="login store is unavailable")


async def test_a_read_failing_closed_logs_its_error_with_its_request_id(dead_redis_client):
    settings = dead_redis_client.settings
    claims = new_claims(
        user_id=dead_redis_client.user_id, token_type="access", family="f", settings=settings
    )
    headers = {"Authorization": f"Bearer {encode_token(claims, settings)}"}

    response, lines = await lines_written_during(
        dead_redis_client.get("/users/me", headers=headers)
    )

    assert response.status_code == 503
    assert any(line["level"] == "ERROR" for line in lines)
    assert_every_line_carries(lines, response, expect="login store is unavailable")


async def test_a_cache_failing_open_logs_its_warning_with_the_request_id(
    client, create_user, login, app
):
    tokens = await login(await create_user())
    target = await create_user()
    dead = Redis.from_url(DEAD_REDIS_URL, socket_connect_timeout=0.2, socket_timeout=0.2)
    # The cache alone loses Redis; its load and write-back run in a task of their own.
    override_user_cache(app, redis=dead)
    try:
        response, lines = await lines_written_during(
            client.get(f"/users/{target.id}", headers=tokens.headers)
        )
    finally:
        await dead.aclose()

    assert response.status_code == 200, "the cache fails open"
    assert any(line["level"] == "WARNING" for line in lines)
    assert_every_line_carries(lines, response, expect="user cache")


async def test_slow_query_warnings_carry_the_request_id(
    database_url, redis_url, redis_namespace, database_schema
):
    settings = make_settings(
        database_url, redis_url, redis_namespace, slow_query_threshold_ms=0.000_001
    )
    async with running_app(settings) as app, client_for(app) as client:
        response, lines = await lines_written_during(
            client.post("/users", json={"email": "s@example.com", "password": PASSWORD})
        )

    assert response.status_code == 201
    assert_every_line_carries(lines, response, expect="slow query")
