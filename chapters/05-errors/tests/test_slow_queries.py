"""Exercise errors.slow_queries: SQL statements timed, the slow ones logged, never their values."""

import json
import logging

import pytest
from sqlalchemy import text

pytestmark = pytest.mark.exercise("errors.slow_queries")

WHERE = "Finish install_query_logging in app/query_log.py (exercise errors.slow_queries)."
SLEEP = "SELECT pg_sleep(0.05)"  # 50 ms, deterministically over a 10 ms threshold


def sql_records(caplog: pytest.LogCaptureFixture, message: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "app.sql" and r.getMessage() == message]


@pytest.fixture
def sql_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    # Capture logger app.sql from INFO up, whatever the root level says.
    caplog.set_level(logging.INFO, logger="app.sql")
    return caplog


async def run(app, statement: str) -> None:
    async with app.state.engine.connect() as connection:
        await connection.execute(text(statement))


async def test_a_query_over_the_threshold_is_a_warning(app_with, sql_logs):
    async with app_with(slow_query_threshold_ms=10) as (app, _):
        await run(app, SLEEP)

    slow = sql_records(sql_logs, "slow query")
    sleeps = [record for record in slow if getattr(record, "statement", None) == SLEEP]
    assert len(sleeps) == 1, (
        f"With SLOW_QUERY_THRESHOLD_MS=10, `{SLEEP}` (50 ms) should be logged once as "
        f"'slow query' by logger app.sql, with the SQL text as a `statement` field; got "
        f"{[(r.getMessage(), getattr(r, 'statement', None)) for r in slow]}. {WHERE}"
    )
    record = sleeps[0]
    assert record.levelno == logging.WARNING, f"A slow query is a WARNING; got {record.levelname}."
    duration = getattr(record, "duration_ms", None)
    assert isinstance(duration, int | float), (
        f"The line should carry `duration_ms` as a number (extra=); got {duration!r}. {WHERE}"
    )
    assert duration >= 10, f"pg_sleep(0.05) takes about 50 ms; duration_ms says {duration}."


async def test_a_slow_query_line_never_holds_the_parameters(app_with, sql_logs):
    email = "private.person@example.com"
    async with app_with(slow_query_threshold_ms=0.001) as (_, client):
        response = await client.post("/users", json={"email": email, "password": "s3cret-pw"})

    assert response.status_code == 201, response.text
    slow = sql_records(sql_logs, "slow query")
    inserts = [r for r in slow if "INSERT INTO users" in str(getattr(r, "statement", ""))]
    assert inserts, (
        "With a threshold of 0.001 ms every statement is slow, the INSERT of a registration "
        f"included; no 'slow query' line from app.sql had it as `statement`. {WHERE}"
    )
    for record in slow:
        everything = json.dumps(vars(record), default=str)
        assert email not in everything, (
            f"A query log line holds the user's data ({record.getMessage()!r}, "
            f"{getattr(record, 'statement', '')!r}): log the statement and its duration, "
            f"never the parameters, which hold emails and password hashes. {WHERE}"
        )


async def test_every_query_is_logged_only_when_switched_on(app_with, sql_logs):
    async with app_with(slow_query_threshold_ms=10_000) as (app, _):
        await run(app, "SELECT 1")
    quiet = sql_records(sql_logs, "query") + sql_records(sql_logs, "slow query")
    sql_logs.clear()
    async with app_with(slow_query_threshold_ms=10_000, log_sql_queries=True) as (app, _):
        await run(app, "SELECT 42")
    chatty = [
        r for r in sql_records(sql_logs, "query") if getattr(r, "statement", "") == "SELECT 42"
    ]

    assert not quiet, (
        f"With LOG_SQL_QUERIES off and nothing slow, app.sql should stay silent; it logged "
        f"{[r.getMessage() for r in quiet]}. {WHERE}"
    )
    assert len(chatty) == 1, (
        "With LOG_SQL_QUERIES=true, every statement should be logged at INFO as 'query' by "
        f"logger app.sql, with its `statement`; `SELECT 42` was logged {len(chatty)} times. "
        f"{WHERE}"
    )
    assert chatty[0].levelno == logging.INFO, f"A 'query' line is INFO; got {chatty[0].levelname}."
    assert isinstance(getattr(chatty[0], "duration_ms", None), int | float), (
        f"A 'query' line carries `duration_ms` too. {WHERE}"
    )


async def test_a_slow_query_line_carries_the_request_id(app_with, json_logs):
    async with app_with(slow_query_threshold_ms=0.001) as (_, client):
        with json_logs.capture() as logs:
            response = await client.post(
                "/users", json={"email": "rid@example.com", "password": "s3cret-pw"}
            )

    slow = logs.with_message("slow query")
    assert slow, (
        f"The JSON logs should hold 'slow query' lines for this request; they hold "
        f"{logs.text[:300]!r}. {WHERE}"
    )
    request_id = response.headers.get("x-request-id")
    assert all(line.get("request_id") == request_id for line in slow), (
        f"Each slow-query line of a request should carry its request id ({request_id!r}); got "
        f"{[line.get('request_id') for line in slow]}. Log from the event listener itself, "
        f"while the request runs: RequestIdFilter does the rest. {WHERE}"
    )
