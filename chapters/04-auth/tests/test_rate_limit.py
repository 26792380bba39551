"""Exercise auth.rate_limit: a fixed window of login attempts per client address, counted
atomically in Redis by one Lua script, answering 429 with Retry-After in seconds, and
failing open (with a warning) when Redis is down."""

import asyncio
import dataclasses
import logging

import pytest
from redis.asyncio import Redis

from app.rate_limit import RateLimiter

pytestmark = pytest.mark.exercise("auth.rate_limit")

WHERE = (
    "Finish FIXED_WINDOW_SCRIPT and RateLimiter.hit in app/rate_limit.py (exercise "
    "auth.rate_limit)."
)
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connections are refused


async def failed_login(client):
    return await client.post(
        "/auth/token", data={"username": "nobody@example.com", "password": "guess-123"}
    )


async def login_counters(app) -> list[str]:
    settings = app.state.resources.settings
    pattern = f"{settings.redis_key_prefix}ratelimit:login:*"
    return [key async for key in app.state.resources.redis.scan_iter(match=pattern)]


async def counter_pttl(app) -> int | None:
    """The PTTL of the login counter, or None when Redis holds none."""
    keys = await login_counters(app)
    return await app.state.resources.redis.pttl(keys[0]) if keys else None


def why_no_limit(pttl: int | None, window_ms: int) -> str:
    """What the counter left by the first attempt says about a limit that never bit."""
    if pttl is None:
        return (
            "After the first attempt Redis held no counter under the test's prefix: either "
            "nothing counted the hit (run the script under self._key(name, identity)), or its "
            "window was over within milliseconds (a window given in seconds where "
            "milliseconds are expected: ARGV[1] and PEXPIRE count milliseconds). "
        )
    if 0 < pttl < window_ms // 10:
        return (
            f"The counter of the first attempt should expire with its window ({window_ms} ms); "
            f"its PTTL is {pttl}: a window given in seconds where milliseconds are expected "
            f"(ARGV[1] and PEXPIRE count milliseconds), so every attempt finds a new window. "
        )
    return ""


@pytest.mark.parametrize(
    "settings", [{"login_rate_limit": 5, "login_rate_limit_window_seconds": 60}], indirect=True
)
async def test_the_sixth_attempt_in_a_window_gets_429_with_retry_after(app, client):
    responses = [await failed_login(client)]
    pttl = await counter_pttl(app)
    responses += [await failed_login(client) for _ in range(5)]

    statuses = [response.status_code for response in responses]
    assert statuses == [401] * 5 + [429], (
        f"With LOGIN_RATE_LIMIT=5, five failed logins should answer 401 and the sixth 429 Too "
        f"Many Requests; they answered {statuses}. {why_no_limit(pttl, 60_000)}{WHERE}"
    )
    retry_after = responses[-1].headers.get("retry-after", "")
    in_seconds = retry_after.isdigit() and 1 <= int(retry_after) <= 60
    assert in_seconds, (
        f"The 429 should say when to try again: a Retry-After header of 1 to 60 seconds (the "
        f"rest of the 60 s window); it is {retry_after!r}. Redis counts in milliseconds, "
        f"HTTP in whole seconds, rounded up. {WHERE}"
    )
    refused = responses[-1].headers
    told = (refused.get("ratelimit-limit"), refused.get("ratelimit-remaining"))
    assert told == ("5", "0"), (
        f"The 429 should also say where the client stands: RateLimit-Limit 5 and "
        f"RateLimit-Remaining 0 (RateLimitResult.headers() makes them); they were {told}. "
        f"{WHERE}"
    )


async def test_the_counter_lives_as_long_as_its_window_in_milliseconds(app, client, settings):
    redis = app.state.resources.redis

    await failed_login(client)
    keys = await login_counters(app)
    assert len(keys) == 1, (
        f"One login attempt should leave one counter in Redis, under settings.redis_key_prefix "
        f"(self._key(name, identity) names it); found {keys}. {WHERE}"
    )
    first_pttl = await redis.pttl(keys[0])
    await failed_login(client)
    second_pttl = await redis.pttl(keys[0])
    count = await redis.get(keys[0])

    window_ms = settings.login_rate_limit_window_seconds * 1000
    assert first_pttl != -1, (
        f"The counter never expires (PTTL is -1): its client would be locked out for good. "
        f"Start the window when the script sees a counter without expiry. {WHERE}"
    )
    assert window_ms - 5000 < first_pttl <= window_ms, (
        f"The counter should expire with its window ({window_ms} ms); its PTTL is "
        f"{first_pttl}. A window given in seconds where milliseconds are expected ends "
        f"1000 times too early: ARGV[1] and PEXPIRE count milliseconds. {WHERE}"
    )
    assert count == "2", f"After two attempts the counter should be 2; it is {count!r}. {WHERE}"
    assert second_pttl <= first_pttl, (
        "The second attempt must not restart the window (a fixed window: expire only a "
        f"counter that has no expiry yet); the PTTL went from {first_pttl} to {second_pttl} "
        f"ms. {WHERE}"
    )


@pytest.mark.parametrize("settings", [{"login_rate_limit": 5}], indirect=True)
async def test_concurrent_attempts_cannot_slip_past_the_limit(client, resources):
    # Open the connections first, so that the racing requests all reach Redis at once.
    await asyncio.gather(*(resources.redis.ping() for _ in range(20)))

    responses = await asyncio.gather(*(failed_login(client) for _ in range(20)))

    let_through = sum(response.status_code != 429 for response in responses)
    assert let_through == 5, (
        f"Of 20 concurrent attempts with LOGIN_RATE_LIMIT=5, exactly 5 should get past the "
        f"limiter; {let_through} did. Reading the count and writing it back in two steps lets "
        f"racing requests through: count and check in the one script. {WHERE}"
    )


@pytest.mark.parametrize("settings", [{"login_rate_limit": 2}], indirect=True)
async def test_each_client_address_has_a_window_of_its_own(client, client_from):
    statuses = [(await failed_login(client)).status_code for _ in range(3)]
    async with client_from("203.0.113.7") as other_client:
        other = await failed_login(other_client)

    assert statuses == [401, 401, 429], (
        f"With LOGIN_RATE_LIMIT=2 the third attempt from one address should get 429; the "
        f"answers were {statuses}. {WHERE}"
    )
    assert other.status_code == 401, (
        f"Another client address should have its own counter (the key names the client's "
        f"IP); its first attempt answered {other.status_code}. {WHERE}"
    )


@pytest.mark.parametrize("settings", [{"login_rate_limit": 2}], indirect=True)
async def test_with_redis_down_the_limiter_lets_requests_through_and_says_so(
    app, client, resources, caplog
):
    dead = Redis.from_url(DEAD_REDIS, decode_responses=True)
    # The limiter alone loses Redis (the logins keep theirs: they fail closed).
    app.state.resources = dataclasses.replace(
        resources, rate_limiter=RateLimiter(dead, resources.settings)
    )
    caplog.set_level(logging.WARNING, logger="app")
    try:
        statuses = [(await failed_login(client)).status_code for _ in range(4)]
    except Exception as error:
        pytest.fail(
            f"With the limiter's Redis down, a login attempt raised {type(error).__name__}: "
            f"{error}. The limiter should fail open: the request goes through, unlimited. "
            f"{WHERE}"
        )
    finally:
        await dead.aclose()

    assert statuses == [401] * 4, (
        f"With the limiter's Redis down, login attempts should go on without a limit (401 "
        f"for a wrong password, never 429 or 500); they answered {statuses}. {WHERE}"
    )
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and "rate" in r.name]
    assert warnings, (
        f"Letting requests through unlimited should not go unnoticed: log a warning when "
        f"Redis cannot be asked (logger = logging.getLogger(__name__) in app/rate_limit.py); "
        f"nothing was logged. {WHERE}"
    )


class NotARedisFailure(Exception):
    """A bug in the code around the limiter (a wrong argument, a typo): an error, never an
    outage of Redis."""


async def test_only_redis_failures_let_a_request_through(resources, caplog, monkeypatch):
    calls: list[str] = []

    async def buggy(*args, **kwargs):
        calls.append(str(args[0]) if args else "a command")
        raise NotARedisFailure(
            "the test made the limiter's Redis client raise an error that is not a "
            "RedisError, as a bug would (Redis itself is fine)"
        )

    # Every command of the app's client, the script's EVALSHA (or EVAL) included.
    monkeypatch.setattr(resources.redis, "execute_command", buggy)
    caplog.set_level(logging.WARNING, logger="app")
    try:
        result = await resources.rate_limiter.hit(
            "login", "203.0.113.9", limit=5, window_seconds=60
        )
    except NotARedisFailure:
        return  # the bug went on as the error it is

    assert calls, (
        f"RateLimiter.hit never asked Redis (it answered {result!r}), so this test proves "
        f"nothing yet: count the hit with the script first. {WHERE}"
    )
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    logged = f" and logged {warnings[0]!r}" if warnings else ""
    pytest.fail(
        f"Here the Redis client raised an error that is not a RedisError (a bug in the code, "
        f"not Redis failing), and RateLimiter.hit answered {result!r}{logged}: it took the bug "
        f"for an outage and let the request through unlimited. Failing open is for Redis's own "
        f"failures: catch redis.exceptions.RedisError, not Exception, so that a bug goes on "
        f"as the error it is. {WHERE}"
    )


@pytest.mark.parametrize(
    "settings",
    [{"account_login_failure_limit": 3, "account_login_failure_window_seconds": 300}],
    indirect=True,
)
async def test_guesses_spread_over_many_addresses_meet_the_account_limit(client_from, create_user):
    victim = await create_user()
    statuses = []
    for n in range(4):  # one guess from each address: the per-address limit never bites
        async with client_from(f"198.51.100.{n + 1}") as attacker:
            guess = await attacker.post(
                "/auth/token", data={"username": victim.email, "password": f"guess {n}"}
            )
            statuses.append(guess.status_code)
    async with client_from("198.51.100.200") as owner:
        locked = await owner.post(
            "/auth/token", data={"username": victim.email, "password": victim.password}
        )

    assert statuses == [401, 401, 401, 429], (
        f"With ACCOUNT_LOGIN_FAILURE_LIMIT=3, the fourth wrong guess on one account should "
        f"get 429 from whatever address it comes (app/security/guesses.py counts per account "
        f"with your limiter); the answers were {statuses}. {WHERE}"
    )
    retry_after = locked.headers.get("retry-after", "")
    locked_out_briefly = (
        locked.status_code == 429 and retry_after.isdigit() and 0 < int(retry_after) <= 300
    )
    assert locked_out_briefly, (
        f"Until the account's window ends, even the owner waits (429, Retry-After at most the "
        f"300 s window): that window is the longest an attacker can lock the owner out. The "
        f"owner got {locked.status_code} with Retry-After {retry_after!r}. {WHERE}"
    )
