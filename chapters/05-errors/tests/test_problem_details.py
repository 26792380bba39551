"""Exercise errors.problem_details: the framework's errors answer RFC 9457 problem details."""

from http import HTTPStatus

import fastapi
import fastapi.exception_handlers
import pytest
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

pytestmark = pytest.mark.exercise("errors.problem_details")

EXERCISE = "(exercise errors.problem_details)"
PROBLEM_MEMBERS = ("type", "title", "status", "detail", "instance", "code")
FASTAPI_DEFAULTS = {
    StarletteHTTPException: fastapi.exception_handlers.http_exception_handler,
    RequestValidationError: fastapi.exception_handlers.request_validation_exception_handler,
}
OUR_HANDLERS = {
    StarletteHTTPException: "handle_http_exception",
    RequestValidationError: "handle_validation_error",
}


def wrapped_answer(body: dict) -> str | None:
    """The answer PlainErrorsAsProblemsMiddleware wrapped, when it made this problem: it turns
    a JSON error it finds into a problem whose detail is that JSON's text."""
    detail = body.get("detail")
    if isinstance(detail, str) and detail.startswith("{"):
        return detail
    return None


def why_not_a_problem(app, response, raised: type[Exception], wrapped: str | None) -> str:
    """What answered instead of your handler: nothing (FastAPI's default), a handler for the
    wrong class, or a handler of yours that answered in another format."""
    ours = OUR_HANDLERS[raised]
    registered = app.exception_handlers.get(raised)
    if wrapped:
        shown = (
            f"a problem that PlainErrorsAsProblemsMiddleware, the safety net around the app, "
            f"made of a plain JSON answer (its detail is that JSON: {wrapped[:160]!r})"
        )
    else:
        shown = f"{response.headers.get('content-type')!r} with {response.text[:160]!r}"
    if registered is not FASTAPI_DEFAULTS[raised]:
        return (
            f"The handler you registered for {raised.__name__} ran, and answered {shown}. "
            f"Answer through _request_problem(...) or problem(), whose ProblemResponse is "
            f"application/problem+json, not with a JSONResponse of your own {EXERCISE}."
        )
    if raised is StarletteHTTPException and fastapi.HTTPException in app.exception_handlers:
        return (
            f"FastAPI's own handler answered, and the app sent {shown}. A handler is "
            f"registered for FastAPI's HTTPException, but the router raises this error as "
            f"Starlette's (starlette.exceptions.HTTPException), FastAPI's base class: a "
            f"handler for the subclass never sees it. Register {ours} for "
            f"StarletteHTTPException {EXERCISE}."
        )
    return (
        f"FastAPI's own handler answered, and the app sent {shown}: nothing of yours is "
        f"registered for {raised.__name__} yet. Write {ours} in app/problems.py and register "
        f"it in install_problem_handlers {EXERCISE}."
    )


def problem_of(app, response, *, status: int, path: str, raised: type[Exception]) -> dict:
    """The problem document of `response`, checked member by member."""
    what = f"{response.request.method} {path}"
    if response.status_code == 500:
        pytest.fail(
            f"{what} should answer {status}; it answered 500, so the handler itself failed: "
            f"{response.text[:200]!r}. Run `uv run workshop check 05 --tb` for the traceback "
            f"{EXERCISE}."
        )
    assert response.status_code == status, (
        f"{what} should answer {status}; it answered {response.status_code}: "
        f"{response.text[:200]!r}. Give the problem the error's own status {EXERCISE}."
    )
    is_problem = response.headers.get("content-type", "").startswith("application/problem+json")
    body = response.json() if is_problem else {}
    wrapped = wrapped_answer(body)
    if not is_problem or wrapped:
        pytest.fail(
            f"{what} should answer a problem document (application/problem+json, RFC 9457) "
            f"made by your handler. " + why_not_a_problem(app, response, raised, wrapped)
        )
    missing = [member for member in PROBLEM_MEMBERS if member not in body]
    assert not missing, (
        f"The problem for {what} lacks {missing}; it is {body}. Answer through "
        f"_request_problem(request, ...), which fills the path and the request id {EXERCISE}."
    )
    assert body["status"] == status, f"`status` should repeat {status}; got {body['status']!r}."
    assert body["title"] == HTTPStatus(status).phrase, (
        f"`title` should be the status's phrase, {HTTPStatus(status).phrase!r}; got "
        f"{body['title']!r} {EXERCISE}."
    )
    assert body["instance"] == path, f"`instance` should be the path {path!r}; got {body}."
    assert isinstance(body["detail"], str), (
        f"`detail` should be a sentence for a human; got {body['detail']!r} {EXERCISE}."
    )
    assert body["detail"], (
        f"`detail` should be a sentence for a human; got {body['detail']!r} {EXERCISE}."
    )
    header_id = response.headers.get("x-request-id")
    if header_id is not None:  # once RequestIdMiddleware gives ids (exercise errors.request_id)
        assert body.get("request_id") == header_id, (
            f"`request_id` should be the request's id, {header_id!r} as in X-Request-ID; got "
            f"{body.get('request_id')!r}. _request_problem reads it from request.state "
            f"{EXERCISE}."
        )
    return body


async def test_an_unknown_route_is_a_404_problem(app, client):
    response = await client.get("/no-such-page")

    body = problem_of(
        app, response, status=404, path="/no-such-page", raised=StarletteHTTPException
    )
    assert body["code"] == "not_found", (
        f"`code` should be 'not_found' (http_error_code(404)); got {body['code']!r} {EXERCISE}."
    )


async def test_a_wrong_method_is_a_405_problem_whose_allow_names_every_method(app, client):
    response = await client.put("/users")

    body = problem_of(app, response, status=405, path="/users", raised=StarletteHTTPException)
    assert body["code"] == "method_not_allowed", (
        f"`code` should be 'method_not_allowed' (http_error_code(405)); got {body['code']!r}."
    )
    allowed = {method.strip() for method in response.headers.get("allow", "").split(",")}
    assert allowed & {"GET", "POST"}, (
        f"A 405 must keep its Allow header, the methods the resource takes; it has "
        f"{response.headers.get('allow')!r}. Pass the exception's headers on {EXERCISE}."
    )
    assert {"GET", "POST"} <= allowed, (
        f"/users takes GET and POST, but Allow says {response.headers.get('allow')!r}: "
        f"Starlette names only the methods of the first route it tried, and GET /users and "
        f"POST /users are two routes. Set Allow from _allowed_methods(request) for a 405 "
        f"{EXERCISE}."
    )


async def test_an_http_exception_keeps_its_detail_and_headers(app, client):
    async def needs_a_token() -> None:
        raise fastapi.HTTPException(401, "Sign in first.", headers={"WWW-Authenticate": "Bearer"})

    app.add_api_route("/test-only/needs-a-token", needs_a_token)

    response = await client.get("/test-only/needs-a-token")

    body = problem_of(
        app, response, status=401, path="/test-only/needs-a-token", raised=StarletteHTTPException
    )
    assert body["code"] == "unauthorized", f"`code` should be 'unauthorized'; got {body}."
    assert body["detail"] == "Sign in first.", (
        f"`detail` should be the exception's own text when it has one; got {body['detail']!r}."
    )
    assert response.headers.get("www-authenticate") == "Bearer", (
        "A 401 must keep its WWW-Authenticate: Bearer (RFC 6750 asks for it): pass the "
        f"exception's headers on {EXERCISE}."
    )


async def test_a_validation_error_lists_every_bad_field(app, client):
    response = await client.post("/users", json={"email": "not-an-email", "password": "short"})

    body = problem_of(app, response, status=422, path="/users", raised=RequestValidationError)
    assert body["code"] == "validation_error", (
        f"`code` should be 'validation_error'; got {body['code']!r} {EXERCISE}."
    )
    errors = body.get("errors")
    assert isinstance(errors, list), (
        f"A 422 problem should list the bad fields in an `errors` member (an extension: pass "
        f"it to _request_problem as a keyword argument); got {body} {EXERCISE}."
    )
    for error in errors:
        keys = error.keys() if isinstance(error, dict) else set()
        assert {"field", "message", "type"} <= keys, (
            f"Each entry of `errors` needs `field`, `message` and `type`; got {error} {EXERCISE}."
        )
    fields = sorted(error["field"] for error in errors)
    assert fields == ["body.email", "body.password"], (
        "`errors` should have one entry per bad field, named by its location joined with dots "
        f"(body.email, body.password); got {fields} {EXERCISE}."
    )


async def test_a_validation_error_never_echoes_the_rejected_value(app, client):
    # Too short a password: it must not come back in the answer, where proxies, browsers and
    # log collectors would keep a copy.
    rejected = "pw-7Xq"
    response = await client.post("/users", json={"email": "ada@example.com", "password": rejected})

    problem_of(app, response, status=422, path="/users", raised=RequestValidationError)
    if rejected in response.text:
        where = paths_holding(response.json(), rejected)
        text, at = response.text, response.text.index(rejected)
        start = max(text.rfind(",", 0, at), text.rfind("{", 0, at)) + 1
        ends = [end for end in (text.find(",", at), text.find("}", at)) if end != -1]
        entry = text[start : min(ends, default=len(text))]
        pytest.fail(
            f"The 422 repeats the rejected password in {', '.join(where) or 'its body'}: "
            f"{entry}. Each item of error.errors() carries the value as `input` (and "
            f"pydantic's `ctx` and `url` come along). Build each entry from `loc`, `msg` and "
            f"`type` only {EXERCISE}."
        )


def paths_holding(document: object, value: str, path: str = "") -> list[str]:
    """Where in a JSON document a string containing `value` sits, as `errors[1].input`."""
    if isinstance(document, dict):
        items = [(f"{path}.{key}" if path else str(key), item) for key, item in document.items()]
    elif isinstance(document, list):
        items = [(f"{path}[{index}]", item) for index, item in enumerate(document)]
    else:
        return [path or "the body"] if isinstance(document, str) and value in document else []
    return [found for where, item in items for found in paths_holding(item, value, where)]


async def test_a_field_refused_by_its_own_validator_is_a_422_too(app, client):
    # full_name's validator raises ValueError for a control character: pydantic keeps that
    # exception object in the error's `ctx`.
    response = await client.post(
        "/users",
        json={"email": "ada@example.com", "password": "s3cret-pw", "full_name": "bell\x07"},
    )

    if response.status_code == 500:
        pytest.fail(
            "A full_name with a control character should be a 422 naming body.full_name; it "
            "was a 500. Its validator raised ValueError, and pydantic keeps that exception "
            "object in the error's `ctx`, which JSON cannot write: an entry copied from the "
            f"error item beyond `loc`, `msg` and `type` breaks the answer {EXERCISE}."
        )
    body = problem_of(app, response, status=422, path="/users", raised=RequestValidationError)
    fields = [error.get("field") for error in body.get("errors", [])]
    assert fields == ["body.full_name"], f"`errors` should name body.full_name; got {fields}."


async def test_a_body_that_is_not_json_is_a_400_problem(app, client):
    response = await client.post(
        "/users",
        content=b'{"email": "ada@example.com",',
        headers={"Content-Type": "application/json"},
    )

    is_problem = response.headers.get("content-type", "").startswith("application/problem")
    if response.status_code == 422 and is_problem and not wrapped_answer(response.json()):
        pytest.fail(
            "A body that is not JSON at all should be a 400 with the code 'invalid_json': "
            "there are no fields to list, the client sent broken syntax. It answered 422. Look "
            f"for an item of type 'json_invalid' in error.errors() {EXERCISE}."
        )
    body = problem_of(app, response, status=400, path="/users", raised=RequestValidationError)
    assert body["code"] == "invalid_json", (
        f"`code` should be 'invalid_json'; got {body['code']!r} {EXERCISE}."
    )
