"""Logs: one JSON object per line, each carrying the request id; SQL and slow-query logs."""

import io
import json
import logging
from collections.abc import Iterator

import pytest
from final_helpers import client_for, make_settings, running_app

from app.logs import HANDLER_NAME


class LogLines:
    def __init__(self, buffer: io.StringIO) -> None:
        self._buffer = buffer

    def all(self) -> list[dict]:
        return [json.loads(line) for line in self._buffer.getvalue().splitlines() if line]

    def with_message(self, message: str) -> list[dict]:
        return [line for line in self.all() if line["message"] == message]


@pytest.fixture
def log_lines(app) -> Iterator[LogLines]:
    """What the app's JSON handler writes, captured from its stream."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == HANDLER_NAME)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield LogLines(buffer)
    handler.setStream(previous)


async def test_every_request_is_logged_as_json_with_its_request_id(
    client, create_user, login, log_lines
):
    user = await create_user()
    tokens = await login(user)

    response = await client.get(f"/users/{user.id}", headers=tokens.headers)

    line = log_lines.with_message("request")[-1]
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert line["method"] == "GET"
    assert line["route"] == "/users/{user_id}", "the route template, not the raw path"
    assert line["path"] == f"/users/{user.id}"
    assert line["status"] == 200
    assert line["duration_ms"] >= 0
    assert {"time", "level", "logger", "service"} <= line.keys()


async def test_a_caller_request_id_is_kept_and_a_bad_one_replaced(client, log_lines):
    kept = await client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    replaced = await client.get("/health/live", headers={"X-Request-ID": "bad id\nforged line"})
    generated = await client.get("/health/live")

    assert kept.headers["X-Request-ID"] == "abc-123"
    assert replaced.headers["X-Request-ID"] != "bad id\nforged line"
    assert len(generated.headers["X-Request-ID"]) == 32
    ids = [line["request_id"] for line in log_lines.with_message("request")]
    assert ids == [r.headers["X-Request-ID"] for r in (kept, replaced, generated)]


async def test_sql_logging_is_off_by_default(client, log_lines):
    await client.post("/users", json={"email": "q@example.com", "password": "password123"})
    assert log_lines.with_message("query") == []


async def test_sql_logging_can_be_switched_on(
    database_url, redis_url, redis_namespace, database_schema
):
    settings = make_settings(database_url, redis_url, redis_namespace, log_sql_queries=True)
    async with running_app(settings) as app, client_for(app) as client:
        handler = next(h for h in logging.getLogger().handlers if h.get_name() == HANDLER_NAME)
        buffer = io.StringIO()
        previous = handler.setStream(buffer)
        try:
            response = await client.post(
                "/users", json={"email": "q@example.com", "password": "password123"}
            )
        finally:
            handler.setStream(previous)
    queries = LogLines(buffer).with_message("query")

    assert any("INSERT INTO users" in line["statement"] for line in queries)
    assert all(line["request_id"] == response.headers["X-Request-ID"] for line in queries)
    assert "password123" not in buffer.getvalue()


async def test_slow_queries_are_logged_as_warnings(
    database_url, redis_url, redis_namespace, database_schema
):
    settings = make_settings(
        database_url, redis_url, redis_namespace, slow_query_threshold_ms=0.000_001
    )
    async with running_app(settings) as app, client_for(app) as client:
        handler = next(h for h in logging.getLogger().handlers if h.get_name() == HANDLER_NAME)
        buffer = io.StringIO()
        previous = handler.setStream(buffer)
        try:
            await client.post("/users", json={"email": "s@example.com", "password": "password123"})
        finally:
            handler.setStream(previous)
    slow = LogLines(buffer).with_message("slow query")

    assert slow, "every statement is over a threshold of a nanosecond"
    assert all(line["level"] == "WARNING" and line["duration_ms"] >= 0 for line in slow)


async def test_an_unhandled_error_is_logged_with_its_request_id_and_traceback(app, log_lines):
    async def explode() -> None:
        raise RuntimeError("kaboom")

    app.add_api_route("/explode", explode)
    async with client_for(app, raise_app_exceptions=False) as client:
        response = await client.get("/explode")

    line = log_lines.with_message("unhandled error")[-1]
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert "RuntimeError: kaboom" in line["exc_info"]
