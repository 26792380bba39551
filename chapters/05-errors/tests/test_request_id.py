"""Exercise errors.request_id: every answer carries an X-Request-ID, kept or made."""

import re

import pytest
from fastapi import Request

from app.logs import request_id_var

pytestmark = pytest.mark.exercise("errors.request_id")

WHERE = "Finish RequestIdMiddleware in app/middleware.py (exercise errors.request_id)."
# What the middleware itself would keep if another service passed the id on: plain, and
# long enough to be unique.
USABLE_ID = re.compile(r"[A-Za-z0-9._-]{16,128}")


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
    assert USABLE_ID.fullmatch(request_id), (
        f"A new request id should be random and plain (16 to 128 letters, digits, '.', '_' "
        f"or '-'; uuid4().hex is 32), so that another service would keep it too; got "
        f"{request_id!r}. {WHERE}"
    )


async def test_a_plain_incoming_id_is_kept(client):
    for incoming in ("abc-123", "Trace_42.retry-1", "x" * 128):
        response = await client.get("/health/live", headers={"X-Request-ID": incoming})

        assert request_id_of(response) == incoming, (
            f"A caller's X-Request-ID made of letters, digits, '.', '_' and '-' (1 to 128 of "
            f"them) should be kept, so that one id follows the request across services; sent "
            f"{incoming!r}, got {response.headers['x-request-id']!r}. {WHERE}"
        )


async def test_an_unsafe_incoming_id_is_replaced(client):
    unsafe = {
        "a space": "two words",
        "a quote and braces (a forged JSON field)": 'abc", "level": "ERROR',
        "129 characters": "x" * 129,
        "200 characters": "y" * 200,
        "nothing in it": "",
    }
    for why, incoming in unsafe.items():
        response = await client.get("/health/live", headers={"X-Request-ID": incoming})

        request_id = request_id_of(response)
        assert request_id != incoming, (
            f"An incoming X-Request-ID with {why} must be replaced by a new one: it is written "
            f"into every log line. Sent {incoming!r}, got it back. Keep only what "
            f"_VALID_REQUEST_ID matches in full (fullmatch, not match or search). {WHERE}"
        )
        assert USABLE_ID.fullmatch(request_id), (
            f"The new id for a refused one should be plain and random; got {request_id!r}. {WHERE}"
        )


async def test_every_request_gets_an_id_of_its_own(client):
    responses = [await client.get("/health/live") for _ in range(3)]

    ids = [request_id_of(response) for response in responses]
    assert len(set(ids)) == 3, (
        f"Three requests without an id should get three different ids; got {ids}. Make the "
        f"id inside __call__, once per request: the middleware object lives as long as the "
        f"app. {WHERE}"
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
        "The route should find the id in request.state.request_id, where the 500 handler "
        f"reads it; it found {seen['state']!r}. request.state reads scope['state'], a dict. "
        f"{WHERE}"
    )
    assert seen["context"] == "seen-123", (
        "request_id_var (app/logs.py) should hold the id while the request runs, so that "
        f"every log line can carry it; it held {seen['context']!r}. {WHERE}"
    )
    assert request_id_var.get() is None, (
        f"request_id_var still holds {request_id_var.get()!r} after the request ended: the "
        "next request served by this task, or a background job, would log under that id. "
        "Keep the token that request_id_var.set() returns and reset the variable with it "
        "in a finally: block. " + WHERE
    )


async def test_the_context_is_reset_even_when_the_route_fails(app, client):
    seen = []

    async def broken() -> None:
        seen.append(request_id_var.get())
        raise RuntimeError("a bug in a route")

    app.add_api_route("/test-only/broken", broken)

    response = await client.get("/test-only/broken", headers={"X-Request-ID": "fails-1"})

    assert response.status_code == 500, f"The control: a bug is a 500; got {response.status_code}."
    assert seen == ["fails-1"], (
        f"While the route ran, request_id_var should have held the request's id, 'fails-1'; "
        f"it held {seen}. {WHERE}"
    )
    assert request_id_var.get() is None, (
        f"After a request whose route raised, request_id_var still holds "
        f"{request_id_var.get()!r}: reset it in a finally: block, which runs when the app "
        f"raises too. {WHERE}"
    )


async def test_error_answers_carry_the_id_too(client):
    errors = (
        ("GET", "/no-such-page", None),  # the router's 404
        ("DELETE", "/health/live", None),  # the router's 405
        ("POST", "/users", {"email": "not-an-email"}),  # a validation error
    )
    for method, path, body in errors:
        response = await client.request(method, path, json=body, headers={"X-Request-ID": "err-42"})

        assert response.headers.get("x-request-id") == "err-42", (
            f"{method} {path} answered {response.status_code}: an error answer needs the id "
            f"most of all, it is what a user quotes to support; X-Request-ID was "
            f"{response.headers.get('x-request-id')!r}. Add it to every http.response.start "
            f"message, whatever its status. {WHERE}"
        )


async def test_the_answer_keeps_its_other_headers(client):
    response = await client.get("/health/live", headers={"X-Request-ID": "keep-the-rest"})

    assert request_id_of(response) == "keep-the-rest", f"The control: the id is kept. {WHERE}"
    lost = [
        name
        for name in ("content-type", "content-length", "x-process-time")
        if name not in response.headers
    ]
    assert not lost, (
        f"Adding X-Request-ID lost the answer's other headers {lost}; it has "
        f"{sorted(response.headers.keys())}. Add one header to the message's own list "
        f"(MutableHeaders(scope=message) edits it in place) rather than replacing the list. "
        f"{WHERE}"
    )
