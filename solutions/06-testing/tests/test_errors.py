"""Errors: every one is problem details, and none gives away what the client must not see."""

import pytest
from httpx import ASGITransport, AsyncClient

from app.dependencies import get_password_hasher

pytestmark = pytest.mark.exercise("testing.errors")

PROBLEM_JSON = "application/problem+json"
SECRET = "password=hunter2 host=db-internal"


@pytest.fixture
async def crashing_client(app, override_dependency):
    """Registration crashes with an unexpected error; the client receives what the service
    answers instead of the exception (raise_app_exceptions=False), as a real client would."""

    async def broken_password_hasher():
        raise RuntimeError(f"could not connect: {SECRET}")

    override_dependency(get_password_hasher, broken_password_hasher)
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_an_unexpected_error_is_a_500_problem_that_leaks_nothing(crashing_client):
    """Make registration crash: override get_password_hasher with a function that raises
    RuntimeError("... hunter2 ..."). Send POST /users through a client whose transport is
    ASGITransport(app=app, raise_app_exceptions=False), so you receive the 500 instead of the
    exception. It is problem details, and neither "hunter2" nor "RuntimeError" is in it."""
    response = await crashing_client.post(
        "/users", json={"email": "ada@example.com", "password": "correct horse"}
    )

    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_JSON
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text


async def test_a_500_carries_the_request_id(crashing_client):
    """The same crash, sent with the header X-Request-ID: trace-me-42: the 500's body has
    request_id "trace-me-42", and so has its X-Request-ID header."""
    response = await crashing_client.post(
        "/users",
        json={"email": "ada@example.com", "password": "correct horse"},
        headers={"X-Request-ID": "trace-me-42"},
    )

    assert response.status_code == 500
    assert response.json().get("request_id") == "trace-me-42"
    assert response.headers.get("X-Request-ID") == "trace-me-42"


async def test_a_validation_error_is_a_problem_naming_the_field(client):
    """Register with the email "not-an-email": 422, problem details, and its `errors` name the
    field "body.email"."""
    response = await client.post(
        "/users", json={"email": "not-an-email", "password": "long enough"}
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert [error["field"] for error in response.json()["errors"]] == ["body.email"]


async def test_a_validation_error_never_echoes_the_password(client):
    """Register with a password too short to accept, such as "hunter2": 422, and the
    password is nowhere in the answer."""
    too_short = "hunter2"

    response = await client.post("/users", json={"email": "ada@example.com", "password": too_short})

    assert response.status_code == 422
    assert too_short not in response.text
