"""Rate limits: atomic in Redis, 429 with Retry-After past the limit, fail open without Redis."""

import asyncio
from dataclasses import replace

import pytest
from final_helpers import client_for, make_settings
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from app.rate_limit import RateLimiter


@pytest.fixture
def settings(database_url, redis_url, redis_namespace):
    return make_settings(
        database_url, redis_url, redis_namespace, login_rate_limit=3, write_rate_limit=2
    )


async def test_logins_past_the_limit_get_429_with_retry_after(client, create_user):
    user = await create_user()
    form = {"username": user.email, "password": user.password}

    allowed = [await client.post("/auth/token", data=form) for _ in range(3)]
    refused = await client.post("/auth/token", data=form)

    assert [response.status_code for response in allowed] == [200, 200, 200]
    assert [r.headers["RateLimit-Remaining"] for r in allowed] == ["2", "1", "0"]
    assert allowed[0].headers["RateLimit-Limit"] == "3"
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["RateLimit-Remaining"] == "0"


async def test_failed_logins_count_too(client, create_user):
    user = await create_user()
    wrong = {"username": user.email, "password": "guess"}

    statuses = [(await client.post("/auth/token", data=wrong)).status_code for _ in range(4)]

    assert statuses == [401, 401, 401, 429]


async def test_concurrent_logins_cannot_slip_past_the_limit(client, create_user):
    user = await create_user()
    form = {"username": user.email, "password": user.password}

    responses = await asyncio.gather(*(client.post("/auth/token", data=form) for _ in range(10)))

    assert sorted(r.status_code for r in responses) == [200] * 3 + [429] * 7


async def test_the_login_limit_is_per_client_ip(app, create_user):
    user = await create_user()
    form = {"username": user.email, "password": user.password}
    async with (
        client_for(app, client=("10.0.0.1", 1000)) as first,
        client_for(app, client=("10.0.0.2", 1000)) as second,
    ):
        for _ in range(3):
            await first.post("/auth/token", data=form)
        blocked = await first.post("/auth/token", data=form)
        other_ip = await second.post("/auth/token", data=form)

    assert blocked.status_code == 429
    assert other_ip.status_code == 200


def _write_rejections() -> float:
    value = REGISTRY.get_sample_value("rate_limit_rejections_total", {"limit": "writes"})
    return value or 0.0


async def test_writes_are_limited_per_user(client, create_user, login):
    first_user, second_user = await create_user(), await create_user()
    first, second = await login(first_user), await login(second_user)
    rejections_before = _write_rejections()

    statuses = [
        (
            await client.patch("/users/me", json={"full_name": f"n{i}"}, headers=first.headers)
        ).status_code
        for i in range(3)
    ]
    other = await client.patch("/users/me", json={"full_name": "x"}, headers=second.headers)

    assert statuses == [200, 200, 429]
    assert other.status_code == 200, "another user has a budget of its own"
    assert _write_rejections() == rejections_before + 1


async def test_the_limiter_fails_open_when_redis_is_down(app, client, create_user):
    """Only the limiter loses Redis here (the login store fails closed, by design): logins
    go through unlimited rather than not at all."""
    user = await create_user()
    resources = app.state.resources
    settings = resources.settings.model_copy(update={"login_rate_limit": 1})
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    app.state.resources = replace(resources, rate_limiter=RateLimiter(dead, settings))
    try:
        form = {"username": user.email, "password": user.password}
        statuses = [(await client.post("/auth/token", data=form)).status_code for _ in range(3)]
    finally:
        await dead.aclose()

    assert statuses == [200, 200, 200], "without Redis logins go through, unlimited"
