"""Password guesses per account: a limit on failed password checks for one email address,
from any client address, so that spreading the guesses over many addresses does not help.

Only failures count (a correct password takes its attempt back), and the window is short: an
attacker who spends an account's guesses locks its owner out for at most one window.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.config import Settings
from app.rate_limit import RateLimiter


@asynccontextmanager
async def password_guess(
    rate_limiter: RateLimiter, settings: Settings, *, email: str
) -> AsyncIterator[None]:
    """Around one password check for `email`: 429 once its failures reach the limit; the
    check counts as a failure unless the block completes."""
    account = email.casefold()
    await rate_limiter.hit(
        "password-guesses",
        account,
        limit=settings.account_login_failure_limit,
        window_seconds=settings.account_login_failure_window_seconds,
    )
    yield
    await rate_limiter.refund("password-guesses", account)
