"""Exercise errors.request_id: every answer carries an X-Request-ID, kept or made."""

import re

import pytest
from fastapi import Request

from app.logs import request_id_var

pytestmark = pytest.mark.exercise("errors.request_id")

WHERE = "Finish RequestIdMiddleware in app/middleware.py (exercise errors.request_id)."
GENERATED_ID = re.compile(r"[0-9a-f]{32}")


def request_id_of(response) -> str:
    value = response.headers.get("x-request-id")
    assert value, (
        f"Every answer should carry an X-Request-ID header; {response.request.method} "
        f"{response.request.url.path} answered {response.status_code} without one. {WHERE}"
    )
    return value


async def test_a_request_without_an_id_gets_a_new_one(client):
    response = await client.get("/health/live")

    request_id = request_id_of(response)
    assert GENERATED_ID.fullmatch(request_id), (
        f"A generated request id should be uuid4().hex (32 hexadecimal characters); got "
        f"{request_id!r}. {WHERE}"
    )


async def test_a_plain_incoming_id_is_kept(client):
    for incoming in ("abc-123", "Trace_42.retry-1", "x" * 128):
        response = await client.get("/health/live", headers={"X-Request-ID": incoming})

        assert request_id_of(response) == incoming, (
            f"A caller's X-Request-ID made of letters, digits, '.', '_' and '-' (1 to 128 of "
            f"them) should be kept, so one id follows the request across services; sent "
            f"{incoming!r}, got {response.headers['x-request-id']!r}. {WHERE}"
        )


async def test_an_unsafe_incoming_id_is_replaced(client):
    unsafe = {
        "a space": "two words",
        "a newline (log injection)": 'ok\n{"level": "ERROR", "message": "forged"}',
        "a quote": 'abc"def',
        "129 characters": "x" * 129,
        "200 characters": "y" * 200,
    }
    for why, incoming in unsafe.items():
        response = await client.get("/health/live", headers={"X-Request-ID": incoming})

        request_id = request_id_of(response)
        assert request_id != incoming, (
            f"An incoming X-Request-ID with {why} must be replaced by a new one (it ends up in "
            f"every log line); sent {incoming!r}, got {request_id!r}. Use "
            f"_VALID_REQUEST_ID.fullmatch(). {WHERE}"
        )
        assert GENERATED_ID.fullmatch(request_id), f"The new id should be uuid4().hex: {WHERE}"


async def test_every_request_gets_an_id_of_its_own(client):
    responses = [await client.get("/health/live") for _ in range(3)]

    ids = [request_id_of(response) for response in responses]
    assert len(set(ids)) == 3, (
        f"Three requests without an id should get three different ids; got {ids}. Make the "
        f"id inside __call__, once per request, not once per middleware. {WHERE}"
    )


async def test_the_route_sees_the_id_in_request_state_and_in_the_context(app, client):
    async def where_is_my_id(request: Request) -> dict:
        return {
            "state": getattr(request.state, "request_id", None),
            "context": request_id_var.get(),
        }

    app.add_api_route("/test-only/request-id", where_is_my_id)

    response = await client.get("/test-only/request-id", headers={"X-Request-ID": "seen-123"})

    assert response.status_code == 200, response.text
    seen = response.json()
    assert seen["state"] == "seen-123", (
        "The route should find the id in request.state.request_id (error handlers read it "
        f"there); it found {seen['state']!r}. Set scope.setdefault('state', {{}})"
        f"['request_id'] in the middleware. {WHERE}"
    )
    assert seen["context"] == "seen-123", (
        "request_id_var (app/logs.py) should hold the id while the request runs, so every log "
        f"line can carry it; it held {seen['context']!r}. Set it before calling the app and "
        f"reset it with the token afterwards. {WHERE}"
    )
    assert request_id_var.get() is None, (
        f"request_id_var still holds {request_id_var.get()!r} after the request ended: the "
        "next request served by this task (or a background job) would log under that id. Keep "
        "the token of request_id_var.set() and reset it in a finally: block. " + WHERE
    )


async def test_error_answers_carry_the_id_too(client):
    for method, path in (("GET", "/no-such-page"), ("GET", "/users/me")):
        response = await client.request(method, path, headers={"X-Request-ID": "err-42"})

        assert response.headers.get("x-request-id") == "err-42", (
            f"{method} {path} answered {response.status_code}: error answers need the id most "
            f"of all, it is what a user quotes to support; X-Request-ID was "
            f"{response.headers.get('x-request-id')!r}. Add it to every http.response.start "
            f"message. {WHERE}"
        )
