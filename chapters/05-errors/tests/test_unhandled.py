"""Exercise errors.unhandled: a bug answers a safe 500 with the request id, and is logged."""

import logging

import pytest

pytestmark = pytest.mark.exercise("errors.unhandled")

WHERE = (
    "Finish handle_unexpected_error in app/problems.py and register it for Exception "
    "(exercise errors.unhandled)."
)
SECRET = "secret internals: password=hunter2 in /srv/app/users/service.py"


@pytest.fixture
def broken_route(app) -> str:
    """A route with a bug: it raises an exception no handler expects."""

    async def broken() -> None:
        raise RuntimeError(SECRET)

    app.add_api_route("/test-only/broken", broken)
    return "/test-only/broken"


async def test_a_bug_answers_a_500_problem_with_the_request_id(client, broken_route):
    response = await client.get(broken_route)

    content_type = response.headers.get("content-type", "")
    assert response.status_code == 500, f"A bug should answer 500; got {response.status_code}."
    assert content_type.startswith("application/problem+json"), (
        f"A 500 should be problem details like every other error; it answered "
        f"{content_type!r}: {response.text[:200]!r}. {WHERE}"
    )
    body = response.json()
    assert body.get("code") == "internal_error", f"`code` should be 'internal_error'; got {body}."
    header_id = response.headers.get("x-request-id")
    assert header_id or body.get("request_id"), (
        "The 500 has no request id, in its body or its X-Request-ID header. Answer through "
        "_request_problem, which reads request.state.request_id, and check that "
        "RequestIdMiddleware stores the id in scope['state'] (app/middleware.py, exercise "
        f"errors.request_id). {WHERE}"
    )
    assert header_id, (
        "The 500 lacks the X-Request-ID header. The Exception handler runs in "
        "ServerErrorMiddleware, outside RequestIdMiddleware, so that middleware never sees this "
        "answer: problem() must add the header itself when it gets a request_id."
    )
    assert body.get("request_id") == header_id, (
        f"The body's request_id should equal the X-Request-ID header ({header_id!r}); got "
        f"{body.get('request_id')!r}. Read it from request.state.request_id. {WHERE}"
    )


async def test_a_500_keeps_the_callers_request_id(client, broken_route):
    response = await client.get(broken_route, headers={"X-Request-ID": "support-ticket-42"})

    assert response.headers.get("x-request-id") == "support-ticket-42", (
        "A caller that sent X-Request-ID: support-ticket-42 should find it on the 500, to quote "
        f"to support; got {response.headers.get('x-request-id')!r}. {WHERE}"
    )


async def test_a_500_leaks_nothing_about_the_error(client, broken_route):
    response = await client.get(broken_route)

    assert response.status_code == 500, f"A bug should answer 500; got {response.status_code}."
    assert response.headers.get("content-type", "").startswith("application/problem+json"), (
        f"A 500 should be problem details; it answered {response.text[:200]!r}. {WHERE}"
    )
    for leak in ("hunter2", "secret internals", "RuntimeError", "Traceback", "service.py"):
        assert leak not in response.text, (
            f"The 500 shows {leak!r}: exception texts, types and tracebacks hold internals "
            f"(paths, queries, secrets). Say only that something went wrong and quote the "
            f"request id. {WHERE}"
        )


async def test_the_bug_is_logged_with_its_traceback_and_request_id(
    client, broken_route, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.ERROR)

    response = await client.get(broken_route, headers={"X-Request-ID": "trace-me-7"})

    logged = [record for record in caplog.records if record.exc_info]
    assert logged, (
        f"The error should be logged with its traceback (logger.error(..., exc_info=error) or "
        f"logger.exception), so you can find out what happened; nothing was logged with "
        f"exc_info. {WHERE}"
    )
    record = logged[-1]
    assert record.exc_info[0] is RuntimeError, (
        f"The logged traceback should be the route's RuntimeError; got {record.exc_info[0]}."
    )
    assert getattr(record, "request_id", None) == response.headers.get("x-request-id"), (
        f"The log record should carry the request id (trace-me-7) so the line can be found "
        f"from what the user quotes; it has {getattr(record, 'request_id', None)!r}. Out here "
        f"the middleware has reset its context variable: pass "
        f'extra={{"request_id": request.state.request_id}}. {WHERE}'
    )
