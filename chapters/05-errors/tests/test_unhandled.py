"""Exercise errors.unhandled: a bug answers a safe 500 with the request id, and is logged."""

import logging

import pytest

pytestmark = pytest.mark.exercise("errors.unhandled")

EXERCISE = "(exercise errors.unhandled)"
WHERE = (
    f"Finish handle_unexpected_error in app/problems.py and register it for Exception {EXERCISE}."
)
SECRET = "secret internals: password=hunter2 in /srv/app/users/service.py"


@pytest.fixture
def broken_route(app) -> str:
    """A route with a bug: it raises an exception no handler expects."""

    async def broken() -> None:
        raise RuntimeError(SECRET)

    app.add_api_route("/test-only/broken", broken)
    return "/test-only/broken"


async def require_request_ids(client) -> None:
    """This exercise puts the request id on the 500: the ids come from RequestIdMiddleware."""
    response = await client.get("/health/live", headers={"X-Request-ID": "probe-1"})
    if response.headers.get("x-request-id") != "probe-1":
        pytest.fail(
            "The 500 must carry the request id, and requests get none yet: exercise "
            "errors.request_id gives them one. Fix that one first (see there)."
        )


def problem_500_of(response) -> dict:
    content_type = response.headers.get("content-type", "")
    assert response.status_code == 500, f"A bug should answer 500; got {response.status_code}."
    assert content_type.startswith("application/problem+json"), (
        f"A 500 should be a problem document like every other error; it answered "
        f"{content_type!r}: {response.text[:200]!r}, Starlette's own. {WHERE}"
    )
    body = response.json()
    assert body.get("code") == "internal_error", (
        f"`code` should be 'internal_error'; got {body.get('code')!r}. {WHERE}"
    )
    return body


async def test_a_bug_answers_a_500_problem_with_the_request_id(client, broken_route):
    await require_request_ids(client)

    response = await client.get(broken_route, headers={"X-Request-ID": "support-ticket-42"})

    body = problem_500_of(response)
    assert body.get("request_id") == "support-ticket-42", (
        f"The 500's `request_id` should be the request's id, support-ticket-42, for the user "
        f"to quote; got {body.get('request_id')!r}. This handler runs after "
        f"RequestIdMiddleware has put request_id_var back: read the id from request.state. "
        f"{WHERE}"
    )
    assert response.headers.get("x-request-id") == "support-ticket-42", (
        f"The 500 should carry X-Request-ID: support-ticket-42; it has "
        f"{response.headers.get('x-request-id')!r}. RequestIdMiddleware never sees this "
        f"answer (the Exception handler runs outside it): _request_problem adds the header "
        f"when the id reaches it. {WHERE}"
    )


async def test_a_500_leaks_nothing_about_the_error(client, broken_route):
    response = await client.get(broken_route)

    problem_500_of(response)
    for leak in ("hunter2", "secret internals", "RuntimeError", "Traceback", "service.py"):
        assert leak not in response.text, (
            f"The 500 shows {leak!r}: exception texts, types and tracebacks hold internals "
            f"(paths, queries, secrets). Say only that something went wrong, and give the "
            f"request id. {WHERE}"
        )


async def test_the_bug_is_logged_with_its_traceback_and_request_id(
    client, broken_route, log_records
):
    await require_request_ids(client)

    response = await client.get(broken_route, headers={"X-Request-ID": "trace-me-7"})

    problem_500_of(response)
    logged = [
        record
        for record in log_records.records
        if record.level >= logging.ERROR and record.get("exc_info")
    ]
    assert logged, (
        "The bug should be logged at ERROR with its traceback (logger.error(..., "
        "exc_info=error) or logger.exception), so you can find out what happened; nothing "
        f"was logged with exc_info. {WHERE}"
    )
    record = logged[-1]
    assert record.get("exc_info")[0] is RuntimeError, (
        f"The traceback logged should be the route's RuntimeError; got "
        f"{record.get('exc_info')[0]}. Pass the error the handler received as exc_info."
    )
    assert record.get("request_id") == "trace-me-7", (
        f"The log line should carry the request id, trace-me-7, so it can be found from what "
        f"the user quotes; the record has {record.get('request_id')!r}. By now "
        f"request_id_var is put back, so the log filter cannot know it: pass "
        f"extra={{'request_id': ...}} from request.state. {WHERE}"
    )
