"""Exercise auth.rate_limit: a fixed window of login attempts per client address, counted
atomically in Redis, answering 429 with Retry-After, and failing open when Redis is down."""

import asyncio

import pytest
from auth_helpers import register
from httpx import ASGITransport, AsyncClient
from redis.exceptions import RedisError

pytestmark = pytest.mark.exercise("auth.rate_limit")

WHERE = (
    "Finish FIXED_WINDOW_SCRIPT, RateLimiter.hit and limit_logins in app/rate_limit.py "
    "(exercise auth.rate_limit)."
)
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connections are refused


async def failed_login(client):
    return await client.post(
        "/auth/token", data={"username": "nobody@example.com", "password": "guess-123"}
    )


async def test_the_sixth_failed_login_in_a_window_gets_429_with_retry_after(app_with):
    async with app_with(login_rate_limit=5, login_rate_limit_window_seconds=60) as (_, client):
        responses = [await failed_login(client) for _ in range(6)]

    statuses = [response.status_code for response in responses]
    assert statuses == [401] * 5 + [429], (
        f"With LOGIN_RATE_LIMIT=5, five failed logins should answer 401 and the sixth 429 Too "
        f"Many Requests; they answered {statuses}. {WHERE}"
    )
    retry_after = responses[-1].headers.get("retry-after", "")
    seconds = int(retry_after) if retry_after.isdigit() else 0
    assert 1 <= seconds <= 60, (
        f"The 429 should say when to try again: a Retry-After header of 1 to 60 seconds (the "
        f"window's rest); it is {retry_after!r}. Give the HTTPException of limit_logins "
        f"headers={{'Retry-After': str(result.reset_after_seconds)}}, in seconds, not ms. {WHERE}"
    )


async def test_the_counter_lives_under_the_prefix_and_dies_with_its_window(app, client, settings):
    redis = app.state.redis

    await failed_login(client)
    keys = [key async for key in redis.scan_iter(match=f"{settings.redis_key_prefix}*")]
    assert len(keys) == 1, (
        f"One login attempt should leave one counter in Redis, under settings.redis_key_prefix "
        f"(redis_key(...) adds it); found {keys}. {WHERE}"
    )
    first_pttl = await redis.pttl(keys[0])
    await failed_login(client)
    second_pttl = await redis.pttl(keys[0])

    assert await redis.get(keys[0]) == "2", (
        f"After two attempts the counter should be 2; it is {await redis.get(keys[0])!r}."
    )
    window_ms = settings.login_rate_limit_window_seconds * 1000
    assert 0 < first_pttl <= window_ms, (
        f"The counter should expire with its window ({window_ms} ms); its PTTL is {first_pttl} "
        f"(-1: never, so the client would be locked out for good). PEXPIRE it when PTTL < 0."
    )
    assert second_pttl <= first_pttl, (
        "The second attempt must not restart the window (fixed window: expire only a counter "
        f"that has no expiry yet); the PTTL went from {first_pttl} to {second_pttl} ms. {WHERE}"
    )


async def test_concurrent_attempts_cannot_slip_past_the_limit(app_with):
    async with app_with(login_rate_limit=5) as (_, client):
        responses = await asyncio.gather(*(failed_login(client) for _ in range(20)))

    let_through = sum(response.status_code != 429 for response in responses)
    assert let_through == 5, (
        f"Of 20 concurrent attempts with LOGIN_RATE_LIMIT=5, exactly 5 should get past the "
        f"limiter; {let_through} did. Reading the count and writing it back in two steps lets "
        f"racing requests through: count with INCR, in one Lua script. {WHERE}"
    )


async def test_each_client_address_has_a_window_of_its_own(app_with):
    async with app_with(login_rate_limit=2) as (app, client):
        transport = ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with AsyncClient(transport=transport, base_url="http://test") as other_client:
            statuses = [(await failed_login(client)).status_code for _ in range(3)]
            other = await failed_login(other_client)

    assert statuses == [401, 401, 429], (
        f"With LOGIN_RATE_LIMIT=2 the third attempt from one address should get 429; the "
        f"answers were {statuses}. {WHERE}"
    )
    assert other.status_code == 401, (
        f"Another client address should have its own counter (the key names the client's "
        f"IP); its first attempt answered {other.status_code}."
    )


async def test_with_redis_down_logins_still_work(app_with):
    async with app_with(redis_url=DEAD_REDIS) as (app, client):
        user = await register(client)
        script = app.state.rate_limiter._script
        calls: list[str] = []

        async def counted(*args, **kwargs):
            calls.append("call")
            return await script(*args, **kwargs)

        app.state.rate_limiter._script = counted
        try:
            right = await client.post(
                "/auth/token", data={"username": user.email, "password": user.password}
            )
            wrong = await failed_login(client)
        except RedisError as error:
            pytest.fail(
                f"With Redis down, logging in raised {type(error).__name__}: {error}. The "
                f"limiter should fail open: catch RedisError in RateLimiter.hit, log a warning "
                f"and return None. {WHERE}"
            )

    assert calls, (
        f"The limiter never ran its script (self._script), so this test cannot tell whether "
        f"it fails open. {WHERE}"
    )
    assert (right.status_code, wrong.status_code) == (200, 401), (
        f"With Redis down, logins should go on as usual (200 for the right password, 401 for "
        f"a wrong one) without a limit rather than not at all; they answered "
        f"{right.status_code} and {wrong.status_code}."
    )
