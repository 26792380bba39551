"""Errors: every one is an RFC 9457 problem; bad input is a 4xx, never a 500."""

import json

import pytest
from final_helpers import client_for

PROBLEM = "application/problem+json"
VALID = {"email": "ok@example.com", "password": "password123"}


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail", "code", "instance", "request_id"} <= body.keys()
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


async def test_an_unknown_route_is_a_404_problem(client):
    body = assert_problem(await client.get("/nowhere"), 404)
    assert body["instance"] == "/nowhere"
    assert body["type"] == "about:blank"
    assert body["title"] == "Not Found"


async def test_a_wrong_method_is_a_405_problem_with_allow(client):
    response = await client.put("/users")
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


async def test_malformed_json_is_a_400_problem(client):
    response = await client.post(
        "/users",
        content=b'{"email": "a@example.com",',
        headers={"Content-Type": "application/json"},
    )
    assert assert_problem(response, 400)["code"] == "invalid_json"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**VALID, "email": 42}, "body.email"),
        ({**VALID, "email": "not-an-email"}, "body.email"),
        ({**VALID, "password": ["a", "list"]}, "body.password"),
        ({**VALID, "password": "short"}, "body.password"),
        ({**VALID, "full_name": {"nested": True}}, "body.full_name"),
        ({"password": "password123"}, "body.email"),
        ({**VALID, "is_admin": True}, "body.is_admin"),
    ],
)
async def test_invalid_fields_are_422_problems_naming_the_field(client, payload, field):
    body = assert_problem(await client.post("/users", json=payload), 422)
    assert body["code"] == "validation_error"
    assert field in [error["field"] for error in body["errors"]]


@pytest.mark.parametrize("payload", [[], "a string", 12, None])
async def test_a_body_that_is_not_an_object_is_a_422(client, payload):
    assert_problem(await client.post("/users", json=payload), 422)


async def test_validation_errors_never_echo_the_rejected_value(client):
    secret = "tiny"  # too short a password: it must not come back in the answer
    response = await client.post("/users", json={**VALID, "password": secret})
    assert_problem(response, 422)
    assert secret not in response.text


@pytest.mark.parametrize(
    "full_name",
    [
        "x" * 201,  # over the bound
        "nul\x00byte",  # PostgreSQL cannot store it
        "bell\x07",
        "   ",  # empty once stripped
    ],
)
async def test_odd_names_are_refused_cleanly(client, full_name):
    assert_problem(await client.post("/users", json={**VALID, "full_name": full_name}), 422)


async def test_a_lone_surrogate_is_refused_cleanly(client):
    # Valid JSON, but "\\ud800" alone is not a character UTF-8 (or PostgreSQL) can hold.
    body = '{"email": "s@example.com", "password": "password123", "full_name": "\\ud800"}'
    response = await client.post(
        "/users", content=body.encode(), headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 422)


@pytest.mark.parametrize("full_name", ["Zoë Ñandú", "李小龍", "محمد", "👩‍🚀 Ada", "O'Brien-Smith"])
async def test_real_names_from_everywhere_are_accepted(client, full_name):
    email = f"name{abs(hash(full_name))}@example.com"
    response = await client.post("/users", json={**VALID, "email": email, "full_name": full_name})
    assert response.status_code == 201, response.text
    assert response.json()["full_name"] == full_name


async def test_a_huge_email_is_a_422_not_a_500(client):
    assert_problem(await client.post("/users", json={**VALID, "email": "a" * 5000 + "@x.io"}), 422)


async def test_a_body_over_the_limit_is_a_413_problem(client, app):
    limit = app.state.settings.max_request_body_bytes
    response = await client.post("/users", json={**VALID, "full_name": "x" * (limit + 1)})
    assert assert_problem(response, 413)["code"] == "content_too_large"


async def test_a_streamed_body_over_the_limit_is_a_413_problem(client, app):
    limit = app.state.settings.max_request_body_bytes

    async def chunks():
        for _ in range(limit // 1024 + 2):
            yield b"x" * 1024

    response = await client.post(
        "/users", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert assert_problem(response, 413)["code"] == "content_too_large"


@pytest.mark.parametrize(
    "username", ["nul\x00@example.com", "x" * 10_000, "", "'; DROP TABLE users; --"]
)
async def test_odd_login_names_are_plain_401s(client, username):
    response = await client.post("/auth/token", data={"username": username, "password": "pw"})
    assert response.status_code in {401, 422}, response.text
    assert response.headers["content-type"] == PROBLEM


async def test_a_login_without_the_form_is_a_422(client):
    assert_problem(await client.post("/auth/token", json={"username": "a"}), 422)


async def test_a_path_that_is_not_a_user_id_is_a_404(client, create_user, login):
    tokens = await login(await create_user())
    # Routes take only UUIDs ({user_id:uuid}): anything else names no resource at all.
    response = await client.get("/users/not-a-uuid", headers=tokens.headers)
    assert assert_problem(response, 404)["code"] == "not_found"


async def test_refresh_with_garbage_is_a_4xx(client):
    for payload in ({"refresh_token": "x" * 5000}, {"refresh_token": 5}, {}, {"extra": 1}):
        response = await client.post("/auth/refresh", json=payload)
        assert 400 <= response.status_code < 500, (payload, response.text)
        assert response.headers["content-type"] == PROBLEM


async def test_an_unhandled_error_is_a_500_with_the_request_id_and_no_internals(app):
    async def explode() -> None:
        raise RuntimeError("database password is hunter2")

    app.add_api_route("/explode", explode)
    async with client_for(app, raise_app_exceptions=False) as client:
        response = await client.get("/explode", headers={"X-Request-ID": "trace-me-123"})

    body = assert_problem(response, 500)
    assert body["request_id"] == "trace-me-123"
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    assert "Traceback" not in json.dumps(body)
