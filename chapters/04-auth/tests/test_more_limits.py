"""Worked section auth.more_limits (given code, no exercise marker): what else is limited, per
what, and when a hit is taken back. Failed password checks per account, from any address
(app/security/guesses.py); registrations and refreshes per client address; writes per user.

The counting itself is exercise auth.rate_limit. So that these tests speak of the policies
alone, before and after that exercise, the app's limiter counts here with `WindowCounter`,
an in-memory fixed window; the refund script, which is given, runs on the real Redis.
"""

from collections import Counter
from uuid import uuid4

import pytest

from app.rate_limit import RateLimiter, RateLimitResult, TooManyRequests
from app.security.guesses import password_guess
from app.security.tokens import TokenClaims
from app.users.dependencies import Login, get_current_login
from app.users.models import User
from app.users.schemas import UserRead

LIMIT = 2


class WindowCounter:
    """Counts hits per (limit name, identity), as the real limiter does, in memory."""

    def __init__(self) -> None:
        self.hits: Counter[tuple[str, str]] = Counter()
        self.windows: dict[str, tuple[int, int]] = {}

    async def hit(
        self, name: str, identity: str, *, limit: int, window_seconds: int
    ) -> RateLimitResult:
        self.hits[name, identity] += 1
        self.windows[name] = (limit, window_seconds)
        result = RateLimitResult(
            limit=limit, hits=self.hits[name, identity], reset_after_seconds=window_seconds
        )
        if not result.allowed:
            raise TooManyRequests(
                "Too many requests.", headers={"Retry-After": str(window_seconds)}
            )
        return result

    async def refund(self, name: str, identity: str) -> None:
        if self.hits[name, identity] > 0:
            self.hits[name, identity] -= 1


@pytest.fixture
def counter(resources, monkeypatch) -> WindowCounter:
    """The app's limiter, counting in memory from now on."""
    stand_in = WindowCounter()
    monkeypatch.setattr(resources.rate_limiter, "hit", stand_in.hit)
    monkeypatch.setattr(resources.rate_limiter, "refund", stand_in.refund)
    return stand_in


class WrongPassword(Exception):
    pass


@pytest.mark.parametrize(
    "settings",
    [{"account_login_failure_limit": LIMIT, "account_login_failure_window_seconds": 300}],
    indirect=True,
)
async def test_failed_password_checks_count_per_account_and_successes_are_taken_back(
    settings, counter
):
    checked: list[str] = []

    async def check(email: str, *, right: bool) -> None:
        async with password_guess(counter, settings, email=email):
            checked.append(email)
            if not right:
                raise WrongPassword()

    await check("Ada@Example.com", right=True)  # a success takes its hit back
    for _ in range(LIMIT):
        with pytest.raises(WrongPassword):
            await check("Ada@Example.com", right=False)
    with pytest.raises(TooManyRequests) as refused:
        await check("ADA@example.COM", right=True)
    await check("grace@example.com", right=True)

    assert counter.hits["password-guesses", "ada@example.com"] == LIMIT + 1, (
        "Failures count once each against the account (its email, casefolded), from any "
        f"address; the counts are {dict(counter.hits)}"
    )
    assert checked.count("ADA@example.COM") == 0, "Past the limit the password is not checked."
    assert refused.value.status_code == 429
    assert counter.windows["password-guesses"] == (LIMIT, 300), (
        "The account's limit and window come from ACCOUNT_LOGIN_FAILURE_LIMIT and "
        "ACCOUNT_LOGIN_FAILURE_WINDOW_SECONDS: the window is the longest an attacker can "
        "lock the owner out."
    )
    assert checked[-1] == "grace@example.com", "Another account is not affected."


@pytest.mark.parametrize("settings", [{"registration_rate_limit": LIMIT}], indirect=True)
async def test_registrations_are_limited_per_client_address(client, client_from, counter):
    async def register(http_client) -> int:
        body = {"email": f"u{uuid4().hex[:8]}@example.com", "password": "x" * 12}
        return (await http_client.post("/users", json=body)).status_code

    statuses = [await register(client) for _ in range(LIMIT + 1)]
    async with client_from("203.0.113.8") as elsewhere:
        other = await register(elsewhere)

    assert statuses == [201] * LIMIT + [429], (
        f"Each registration costs an argon2 hash: past REGISTRATION_RATE_LIMIT per address "
        f"the answer is 429; the answers were {statuses}"
    )
    assert other == 201, "Another client address has a limit of its own."


@pytest.mark.parametrize("settings", [{"refresh_rate_limit": LIMIT}], indirect=True)
async def test_refreshes_are_limited_per_client_address(client, client_from, counter):
    async def refresh(http_client) -> int:
        body = {"refresh_token": "not-a-token"}
        return (await http_client.post("/auth/refresh", json=body)).status_code

    statuses = [await refresh(client) for _ in range(LIMIT + 1)]
    async with client_from("203.0.113.9") as elsewhere:
        other = await refresh(elsewhere)

    assert statuses == [401] * LIMIT + [429], (
        f"Refreshes are counted before the token is even read, per address: past "
        f"REFRESH_RATE_LIMIT the answer is 429; the answers were {statuses}"
    )
    assert other == 401, "Another client address has a limit of its own."


@pytest.mark.parametrize("settings", [{"write_rate_limit": LIMIT}], indirect=True)
async def test_writes_are_limited_per_user(app, client, create_user, counter):
    user = await create_user()
    async with app.state.resources.sessionmaker() as session:
        caller = UserRead.model_validate(await session.get(User, user.id))
    claims = TokenClaims(sub=user.id, exp=2**31, iat=0, nbf=0, jti="j", type="access", family="f")
    # The caller is known without logging in (that is the exercises' part).
    app.dependency_overrides[get_current_login] = lambda: Login(user=caller, claims=claims)

    statuses = [
        (await client.patch("/users/me", json={"full_name": f"Ada {n}"})).status_code
        for n in range(LIMIT + 1)
    ]

    assert statuses == [200] * LIMIT + [429], (
        f"Writes are limited per user (WRITE_RATE_LIMIT): the answers were {statuses}"
    )
    assert counter.windows["writes"][0] == LIMIT


async def test_refund_takes_one_hit_back_and_never_makes_a_counter(resources, settings):
    limiter = RateLimiter(resources.redis, settings)
    counted = limiter._key("password-guesses", "ada@example.com")
    await resources.redis.set(counted, 3, px=60_000)
    never_counted = limiter._key("password-guesses", "grace@example.com")

    await limiter.refund("password-guesses", "ada@example.com")
    await limiter.refund("password-guesses", "grace@example.com")

    assert await resources.redis.get(counted) == "2", "A refund takes one hit back."
    assert 0 < await resources.redis.pttl(counted) <= 60_000, "It keeps the window's expiry."
    assert not await resources.redis.exists(never_counted), (
        "A refund never creates a counter: it would have no expiry."
    )
