"""Exercise errors.problem_details: the framework's errors answer RFC 9457 problem details."""

from http import HTTPStatus

import pytest

pytestmark = pytest.mark.exercise("errors.problem_details")

WHERE = (
    "Finish problem(), handle_http_exception and handle_validation_error in app/problems.py, "
    "and register them in install_problem_handlers (exercise errors.problem_details)."
)
PROBLEM_MEMBERS = ("type", "title", "status", "detail", "instance", "code", "request_id")


ROUTER_ERRORS = (
    "Starlette's router raises this error as starlette.exceptions.HTTPException; FastAPI's "
    "HTTPException is a subclass of it, so a handler registered for FastAPI's never sees it."
)


def problem_of(response, *, status: int, path: str, why: str = "") -> dict:
    """The problem details body of `response`, checked member by member."""
    why = f"{why} " if why else ""
    what = f"{response.request.method} {path}"
    assert response.status_code == status, (
        f"{what} should answer {status}; it answered {response.status_code}."
    )
    content_type = response.headers.get("content-type", "")
    assert content_type.startswith("application/problem+json"), (
        f"{what} should answer with content-type application/problem+json (RFC 9457); it "
        f"answered {content_type!r} with {response.text[:200]!r}. {why}{WHERE}"
    )
    body = response.json()
    missing = [member for member in PROBLEM_MEMBERS if member not in body]
    assert not missing, f"The problem for {what} lacks {missing}; it is {body}. {WHERE}"
    assert body["type"] == "about:blank", f"`type` should be 'about:blank'; got {body['type']!r}."
    assert body["status"] == status, f"`status` should repeat {status}; got {body['status']!r}."
    assert body["title"] == HTTPStatus(status).phrase, (
        f"`title` should be the status's phrase (HTTPStatus({status}).phrase); got "
        f"{body['title']!r}."
    )
    assert body["instance"] == path, f"`instance` should be the path {path!r}; got {body}."
    assert body["request_id"] == response.headers.get("x-request-id"), (
        f"`request_id` should equal the X-Request-ID header "
        f"({response.headers.get('x-request-id')!r}); got {body['request_id']!r}. It comes "
        "from request.state.request_id, which RequestIdMiddleware sets (exercise "
        "errors.request_id)."
    )
    return body


async def test_an_unknown_route_is_a_404_problem(client):
    response = await client.get("/no-such-page")

    body = problem_of(response, status=404, path="/no-such-page", why=ROUTER_ERRORS)

    assert body["code"] == "not_found", f"`code` should be 'not_found'; got {body['code']!r}."


async def test_a_wrong_method_is_a_405_problem_that_keeps_allow(client):
    response = await client.delete("/health/live")

    body = problem_of(response, status=405, path="/health/live", why=ROUTER_ERRORS)
    assert body["code"] == "method_not_allowed", (
        f"`code` should be 'method_not_allowed' (HTTP_ERROR_CODES); got {body['code']!r}."
    )
    assert "GET" in response.headers.get("allow", ""), (
        "A 405 must keep its Allow header (the methods the resource accepts): pass the "
        f"exception's headers on. {WHERE}"
    )


async def test_a_missing_bearer_token_is_a_401_problem_with_www_authenticate(client):
    response = await client.get("/users/me")

    body = problem_of(response, status=401, path="/users/me")
    assert body["code"] == "unauthorized", f"`code` should be 'unauthorized'; got {body}."
    assert response.headers.get("www-authenticate") == "Bearer", (
        "The 401 for a missing token must keep WWW-Authenticate: Bearer (RFC 6750); pass "
        f"error.headers on. {WHERE}"
    )


async def test_a_validation_error_lists_every_bad_field(client):
    response = await client.post("/users", json={"email": "not-an-email", "password": "short"})

    body = problem_of(response, status=422, path="/users")
    assert body["code"] == "validation_error", f"`code` should be 'validation_error'; got {body}."
    errors = body.get("errors")
    assert isinstance(errors, list), (
        f"A 422 problem should list the bad fields in an `errors` member; got {body}. {WHERE}"
    )
    fields = sorted(error.get("field") for error in errors)
    assert fields == ["body.email", "body.password"], (
        "`errors` should have one entry per bad field, named by its location joined with dots "
        f"(body.email, body.password); got {fields}. {WHERE}"
    )
    for error in errors:
        assert {"field", "message", "type"} <= error.keys(), (
            f"Each entry of `errors` needs field, message and type; got {error}."
        )


async def test_a_validation_error_never_echoes_the_rejected_value(client):
    # A password can be rejected for being too long: it must not come back in the answer,
    # where proxies, browsers and log collectors would keep it.
    secret = "my-real-password-" + "x" * 200
    response = await client.post("/users", json={"email": "ada@example.com", "password": secret})

    problem_of(response, status=422, path="/users")
    assert "my-real-password" not in response.text, (
        "The 422 repeats the rejected password: FastAPI's errors carry it as `input`. Build "
        f"each entry from `loc`, `msg` and `type` only. {WHERE}"
    )
