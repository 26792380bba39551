"""Exercise config.timing: pure ASGI middleware adds X-Process-Time to every response, and
the value measures the app's work."""

import asyncio
import re
from contextlib import contextmanager

import pytest
from starlette.middleware.base import BaseHTTPMiddleware

from app.middleware import ProcessTimeMiddleware

pytestmark = pytest.mark.exercise("config.timing")

WHERE = "Finish ProcessTimeMiddleware in app/middleware.py (exercise config.timing)."
APP_WORK_SECONDS = 0.05  # what the test's own app spends before it answers
PAUSE_SECONDS = 0.3  # between two requests to one middleware: no request's time includes it
SIX_DECIMALS = re.compile(r"\d+\.\d{6}")


def seconds_in(value: str | None, answered: str) -> float:
    """The X-Process-Time header's value as seconds, failing readably when it is not one."""
    assert value is not None, (
        f"Every response should carry an X-Process-Time header; {answered} without one. {WHERE}"
    )
    try:
        seconds = float(value)
    except ValueError:
        pytest.fail(
            f"X-Process-Time should be seconds as a number, like 0.000412; got {value!r}. {WHERE}"
        )
    if not SIX_DECIMALS.fullmatch(value):
        pytest.fail(
            f"X-Process-Time should be the seconds written with exactly six decimals, like "
            f"0.000412 or 1.250000; got {value!r}. str() or round() of a float can give "
            f"'5e-05' or '0.1': format the number with a fixed six decimals instead. {WHERE}"
        )
    return seconds


@contextmanager
def header_values_must_be_text():
    """Starlette encodes a header value with `value.encode()`: anything but a str fails there,
    deep inside Starlette. Say what went wrong in the learner's words instead."""
    try:
        yield
    except (AttributeError, TypeError) as error:
        given = re.search(
            r"'(\w+)' object has no attribute 'encode'|[Hh]eader value.*<class '(\w+)'>",
            str(error),
        )
        if given is None:
            raise
        raise AssertionError(
            f"X-Process-Time was given a value of type {given.group(1) or given.group(2)} "
            f"({type(error).__name__}: {error}). A header value must be a str: write the "
            f"seconds as text yourself, to the microsecond (like 0.000412); MutableHeaders "
            f"turns that text into bytes for you. {WHERE}"
        ) from error


async def test_every_response_carries_x_process_time(client):
    for path in ("/health/live", "/no-such-page"):
        with header_values_must_be_text():
            response = await client.get(path)

        seconds = seconds_in(
            response.headers.get("x-process-time"), f"GET {path} answered {response.status_code}"
        )
        assert 0 <= seconds < 60, (
            f"X-Process-Time should be the seconds the request took; got {seconds}. {WHERE}"
        )


def app_that_works_then_answers(seen_scope_types: list[str]):
    """A bare ASGI app that spends APP_WORK_SECONDS before it starts its response."""

    async def app(scope, receive, send):
        seen_scope_types.append(scope["type"])
        if scope["type"] != "http":
            return
        await asyncio.sleep(APP_WORK_SECONDS)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return app


async def call(middleware, scope: dict) -> list[dict]:
    """Calls the middleware with one scope; the messages it sent on."""
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    await middleware(scope, receive, send)
    return sent


async def test_the_value_measures_the_apps_work():
    middleware = ProcessTimeMiddleware(app_that_works_then_answers([]))

    with header_values_must_be_text():
        sent = await call(middleware, {"type": "http", "method": "GET", "path": "/", "headers": []})

    raw_headers = list(sent[0].get("headers", []))
    not_bytes = [pair for pair in raw_headers if not all(isinstance(part, bytes) for part in pair)]
    assert not not_bytes, (
        f"In an ASGI message every header is a pair of bytes, and the server refuses anything "
        f"else; the http.response.start message carries {not_bytes}. Set the header through "
        f"MutableHeaders(scope=message) with a str value: it encodes both for you. {WHERE}"
    )
    headers = {name.lower(): value for name, value in raw_headers}
    raw = headers.get(b"x-process-time")
    seconds = seconds_in(
        raw.decode() if isinstance(raw, bytes) else raw, "the http.response.start message went"
    )
    assert seconds >= APP_WORK_SECONDS * 0.9, (
        f"The app took {APP_WORK_SECONDS} s before it started answering, but X-Process-Time "
        f"says {seconds} s: the clock must start before the app is called and be read when "
        f"the response starts (two clock reads before calling the app always give 0.000000). "
        f"{WHERE}"
    )
    assert seconds < 30, f"X-Process-Time says {seconds} s for a 0.05 s request. {WHERE}"


async def test_each_request_is_timed_from_its_own_start():
    middleware = ProcessTimeMiddleware(app_that_answers_at_once())
    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}

    values: list[str] = []
    for _ in range(2):
        with header_values_must_be_text():
            sent = await call(middleware, dict(scope))
        value = process_time_in(sent[0])
        seconds = seconds_in(value, "the http.response.start message went")
        values.append(str(value))
        await asyncio.sleep(PAUSE_SECONDS)  # the app sits idle; no request is running

    assert seconds < PAUSE_SECONDS / 2, (
        f"Two requests the app answered at once say X-Process-Time {values[0]} and "
        f"{values[1]} s, but {PAUSE_SECONDS} s passed between them with no request running: "
        f"the value grows with the app's age. The clock is read once, when the middleware is "
        f"built (in __init__); read it per request instead, inside __call__, so each request "
        f"is timed from its own start. {WHERE}"
    )


def app_that_answers_at_once():
    async def app(scope, receive, send):
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

    return app


def process_time_in(message: dict) -> str | None:
    for name, value in message.get("headers", []):
        if name.lower() == b"x-process-time":
            return value.decode() if isinstance(value, bytes) else value
    return None


async def test_the_middleware_is_pure_asgi_and_leaves_other_scopes_alone():
    assert not issubclass(ProcessTimeMiddleware, BaseHTTPMiddleware), (
        f"Write ProcessTimeMiddleware as pure ASGI (__call__(scope, receive, send)), "
        f"not as a BaseHTTPMiddleware. {WHERE}"
    )
    seen_scope_types: list[str] = []
    middleware = ProcessTimeMiddleware(app_that_works_then_answers(seen_scope_types))

    try:
        sent = await call(middleware, {"type": "lifespan"})
    except KeyError as error:
        pytest.fail(
            f"The middleware raised KeyError {error} on a lifespan scope, which has no HTTP "
            f"keys: let every scope whose type is not http through untouched, first. {WHERE}"
        )
    http_sent = await call(
        middleware, {"type": "http", "method": "GET", "path": "/", "headers": []}
    )

    assert seen_scope_types == ["lifespan", "http"], (
        "Every scope must reach the app: pass lifespan and websocket scopes through untouched. "
        f"The app saw {seen_scope_types}. {WHERE}"
    )
    assert sent == [], "A lifespan scope sends no HTTP messages through the middleware."
    header_names = [name.lower() for name, _ in http_sent[0].get("headers", [])]
    assert b"x-process-time" in header_names, (
        f"The http.response.start message should carry X-Process-Time; its headers are "
        f"{header_names}. {WHERE}"
    )
