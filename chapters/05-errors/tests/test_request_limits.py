"""Worked section errors.request_limits: a body over MAX_REQUEST_BODY_BYTES is a 413, declared
or streamed, and a request line plus headers over MAX_REQUEST_HEADER_BYTES is a 431.

RequestSizeLimitMiddleware (app/middleware.py) is given; these tests pass on the starter.
"""

from sqlalchemy import func, select

from app.users.models import User

PROBLEM = "application/problem+json"
LIMIT = 2048  # MAX_REQUEST_BODY_BYTES for these tests


async def users_in(app) -> int:
    async with app.state.resources.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(User))


async def test_a_body_declared_over_the_limit_is_a_413_problem(app_with):
    body = {"email": "big@example.com", "password": "s3cret-pw", "full_name": "x" * LIMIT}
    async with app_with(max_request_body_bytes=LIMIT) as (app, client):
        response = await client.post("/users", json=body)
        stored = await users_in(app)

    assert response.status_code == 413, (
        f"A body whose Content-Length is over the limit is refused before it is read: 413; "
        f"got {response.status_code}: {response.text[:200]}"
    )
    assert response.headers["content-type"] == PROBLEM, "the refusal is a problem document"
    assert response.json()["code"] == "content_too_large"
    assert stored == 0, "nothing of a refused request is stored"


async def test_a_streamed_body_over_the_limit_is_a_413(app_with):
    async def chunks():  # no Content-Length: the size is known only while reading
        for _ in range(LIMIT // 512 + 2):
            yield b"x" * 512

    async with app_with(max_request_body_bytes=LIMIT) as (app, client):
        response = await client.post(
            "/users", content=chunks(), headers={"Content-Type": "application/json"}
        )
        stored = await users_in(app)

    assert response.status_code == 413, (
        f"A streamed body is counted while the route reads it, and refused once over the "
        f"limit: 413; got {response.status_code}: {response.text[:200]}"
    )
    # Raised as the framework's HTTPException while the body is read: a problem document
    # once handle_http_exception answers those (exercise errors.problem_details).
    assert f"larger than {LIMIT} bytes" in response.text, response.text
    assert stored == 0, "nothing of a refused request is stored"


async def test_a_body_within_the_limit_is_served(app_with):
    body = {"email": "fits@example.com", "password": "s3cret-pw", "full_name": "Ada"}
    async with app_with(max_request_body_bytes=LIMIT) as (_, client):
        response = await client.post("/users", json=body)

    assert response.status_code == 201, response.text


async def test_headers_over_the_limit_in_all_are_a_431_problem(client, settings):
    # Each header is small; together they are over MAX_REQUEST_HEADER_BYTES (16 KiB). The
    # server's own cap applies per read of the socket, not per request.
    many = {f"X-Padding-{n}": "x" * 1000 for n in range(20)}

    refused = await client.get("/health/live", headers=many)
    served = await client.get("/health/live", headers={"X-Padding": "x" * 1000})

    assert sum(len(name) + len(value) for name, value in many.items()) > (
        settings.max_request_header_bytes
    ), "the control: the headers are over the limit together"
    assert refused.status_code == 431, f"got {refused.status_code}: {refused.text[:200]}"
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["code"] == "request_header_fields_too_large"
    assert served.status_code == 200, "one header of 1 kB is fine"


async def test_a_request_line_over_the_limit_is_a_431(client, settings):
    padding = "x" * settings.max_request_header_bytes

    response = await client.get(f"/health/live?padding={padding}")

    assert response.status_code == 431, "the request line counts towards the limit"
