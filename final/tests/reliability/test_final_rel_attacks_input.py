"""Attacks through the input: oversized and malformed bodies, hostile Host and Origin
headers, SQL and JSON injection in every field. Each test states the attack and the answer.
(Oversized headers need the real server: see test_final_rel_regressions.py.)"""

import json
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from app.users.models import User

PROBLEM = "application/problem+json"
MAX_BODY = 64 * 1024

SQL_INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE users; --",
    "admin'--",
    "1; SELECT pg_sleep(10)",
    "' UNION SELECT hashed_password FROM users --",
    "\\'; TRUNCATE users; --",
    "$1; DELETE FROM users",
    "%' OR email LIKE '%",
]
JSON_INJECTIONS = [
    '", "role": "admin", "x": "',
    '{"role": "admin"}',
    '\\"}, {\\"role\\": \\"admin',
    "__proto__",
    "</script><script>alert(1)</script>",
]


def assert_problem(response, *statuses: int) -> dict:
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"] == PROBLEM
    return response.json()


async def count_users(app) -> int:
    async with app.state.resources.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(User))


# --- bodies ------------------------------------------------------------------------------


WRITE_ROUTES = [
    ("POST", "/users", "application/json"),
    ("PATCH", "/users/me", "application/json"),
    ("POST", "/auth/token", "application/x-www-form-urlencoded"),
    ("POST", "/auth/refresh", "application/json"),
]


@pytest.mark.parametrize(
    ("method", "path", "content_type"), WRITE_ROUTES, ids=[f"{m} {p}" for m, p, _ in WRITE_ROUTES]
)
async def test_an_oversized_body_is_refused_on_every_write_route(
    client, create_user, login, method, path, content_type
):
    """Attack: a body far over the limit (1 MB) on each route that reads one, declared in
    Content-Length or streamed in chunks without it. 413 problem, before the body is
    parsed, and before authentication can be used to make the server read it all."""
    headers = {"Content-Type": content_type, **(await login(await create_user())).headers}
    body = b"a" * (16 * MAX_BODY)

    async def chunks():
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    declared = await client.request(method, path, content=body, headers=headers)
    streamed = await client.request(method, path, content=chunks(), headers=headers)

    assert assert_problem(declared, 413)["code"] == "content_too_large"
    assert assert_problem(streamed, 413)["code"] == "content_too_large"


MALFORMED_JSON = {
    "nested 30,000 deep": b"[" * 30_000,
    "a 5,000-digit number": b'{"email": ' + b"9" * 5_000 + b', "password": "x"}',
    "NaN": b'{"email": NaN, "password": "password123"}',
    "1e999999": b'{"email": "a@example.com", "password": 1e999999}',
    "not UTF-8": '{"email": "é@example.com"}'.encode("latin-1"),
    "truncated": b'{"email": "a@example.com", "pass',
    "empty": b"",
    "a bare string": b'"hello"',
}


@pytest.mark.parametrize("body", MALFORMED_JSON.values(), ids=MALFORMED_JSON.keys())
async def test_malformed_json_is_a_4xx_problem(client, body):
    """Attack: JSON built to break the parser or the validation (deep nesting, numbers too
    big to convert, NaN, broken encodings). A 4xx problem, never a 500."""
    response = await client.post(
        "/users", content=body, headers={"Content-Type": "application/json"}
    )

    assert_problem(response, 400, 422)


async def test_a_form_with_thousands_of_fields_is_refused(client):
    """Attack: a login form with 5,000 fields, to make the form parser work. 400 problem."""
    body = b"a=1&" * 5_000 + b"username=x&password=y"

    response = await client.post(
        "/auth/token", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )

    assert_problem(response, 400)


# --- Host and Origin ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["attacker.example", "localhost.attacker.example", "localhost@attacker.example", "127.0.0.2"],
)
async def test_a_hostile_host_header_is_refused(client, host):
    """Attack: a Host header naming another site, to poison caches or generated links. 400
    problem: only the configured hosts are served."""
    response = await client.get("/health/live", headers={"Host": host})

    assert assert_problem(response, 400)["detail"] == "Invalid host header"


async def test_links_the_service_makes_do_not_come_from_the_host_header(client):
    """Attack: Host header injection into generated URLs. The Location of a new user is a
    path, so no Host value can make it point elsewhere."""
    response = await client.post(
        "/users", json={"email": "loc@example.com", "password": "password123"}
    )

    assert response.status_code == 201
    assert response.headers["Location"] == f"/users/{response.json()['id']}"


@pytest.mark.parametrize(
    "origin",
    [
        "https://attacker.example",
        "null",
        "http://localhost:3000.attacker.example",
        "http://localhost",
    ],
)
async def test_a_foreign_origin_gets_no_cors_grant(client, create_user, login, origin):
    """Attack: a page on another origin calls the API with the user's credentials. Its
    preflight gets a 400 problem, and a simple request no Access-Control-Allow-Origin, so the
    browser keeps the answer from the page."""
    headers = (await login(await create_user())).headers
    preflight = await client.options(
        "/users/me",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "DELETE",
            "Access-Control-Request-Headers": "Authorization",
        },
    )
    simple = await client.get("/users/me", headers={**headers, "Origin": origin})

    assert_problem(preflight, 400)
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in simple.headers  # what a browser checks


# --- injection strings in every field ------------------------------------------------------


@pytest.mark.parametrize("payload", SQL_INJECTIONS + JSON_INJECTIONS)
async def test_injection_strings_in_every_field_are_data(client, app, create_user, login, payload):
    """Attack: SQL and JSON injection strings in every field a client controls (name, email,
    password, login form, path, query, refresh token, bearer token). Never a 500; a name
    is stored and returned exactly as sent; nothing is dropped, deleted or granted."""
    user = await create_user()
    headers = (await login(user)).headers
    rows_before = await count_users(app)

    renamed = await client.patch("/users/me", json={"full_name": payload}, headers=headers)
    registered = await client.post(
        "/users", json={"email": f"{payload}@example.com", "password": "password123"}
    )
    with_password = await client.post(
        "/users", json={"email": f"p-{uuid4().hex[:8]}@example.com", "password": payload + "-pw"}
    )
    answers = [
        renamed,
        registered,
        with_password,
        await client.post("/auth/token", data={"username": payload, "password": payload}),
        await client.post("/auth/token", data={"username": user.email, "password": payload}),
        await client.get(f"/users/{payload}", headers=headers),
        await client.get("/users", params={"limit": payload, "offset": payload}, headers=headers),
        await client.post("/auth/refresh", json={"refresh_token": payload}),
        await client.get("/users/me", headers={"Authorization": f"Bearer {payload}"}),
    ]

    for answer in answers:
        assert answer.status_code < 500, answer.text
        if answer.status_code >= 400:
            assert answer.headers["content-type"] == PROBLEM
    assert renamed.status_code == 200
    assert renamed.json()["full_name"] == payload.strip()
    assert renamed.json()["role"] == "user"
    if registered.status_code == 201:  # some of these are valid addresses
        assert registered.json()["email"].lower() == f"{payload}@example.com".lower()
    assert with_password.status_code == 201
    created = int(registered.status_code == 201) + 1
    assert await count_users(app) == rows_before + created, "no row was dropped or added"


async def test_a_name_that_looks_like_json_is_returned_as_a_string(client, create_user, login):
    """Attack: JSON injection through a stored name, hoping a later answer splices it into
    its document. The answer is valid JSON, the name a plain string, the role unchanged."""
    headers = (await login(await create_user())).headers
    payload = '", "role": "admin", "x": "'
    await client.patch("/users/me", json={"full_name": payload}, headers=headers)

    raw = (await client.get("/users/me", headers=headers)).text

    document = json.loads(raw)
    assert document["full_name"] == payload.strip()
    assert document["role"] == "user"


@pytest.mark.parametrize(
    "request_id", ["café-\u2028", "a" * 500, "<script>", "id with spaces", "../../etc"]
)
async def test_a_hostile_request_id_is_replaced_not_echoed(client, request_id):
    """Attack: a crafted X-Request-ID, to inject into logs or reflect into answers. Only short
    plain ids are kept; anything else is replaced by one the service makes."""
    sent = request_id.encode()  # as raw bytes: a client is not bound to ASCII
    response = await client.get("/health/live", headers={"X-Request-ID": sent})

    assert response.headers["X-Request-ID"].encode() != sent
    assert len(response.headers["X-Request-ID"]) == 32


async def test_a_method_override_header_is_ignored(client, create_user, login, admin_tokens):
    """Attack: `X-HTTP-Method-Override: DELETE` on a POST, to slip a delete past a proxy that
    only filters methods. The method is the request's own: 405, and the user remains."""
    target = await create_user()

    response = await client.post(
        f"/users/{target.id}",
        headers={**admin_tokens.headers, "X-HTTP-Method-Override": "DELETE"},
    )
    still_there = await client.get(f"/users/{target.id}", headers=admin_tokens.headers)

    assert_problem(response, 405)
    assert still_there.status_code == 200
