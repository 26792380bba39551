"""Races: requests that arrive at the same moment, as they do in production.

`asyncio.gather` over the client sends the requests concurrently, and the app gives each one
its own database session: the race happens where it would for real, in PostgreSQL.
"""

import asyncio

import pytest
from sqlalchemy import func, select

from app.dependencies import get_password_hasher
from app.resources import resources_of
from app.users.models import User

pytestmark = pytest.mark.exercise("testing.concurrency")

RACERS = 20
BARRIER_TIMEOUT_SECONDS = 10  # far longer than twenty requests take to arrive


# --8<-- [start:barrier]
class HashersWaitForEachOther:
    """The app's password hasher, except that every hash waits until all the racing requests
    are hashing: they then go on to the database together, every time, not just by luck."""

    def __init__(self, hasher, racers: int) -> None:
        self._hasher = hasher
        self._everyone_here = asyncio.Barrier(racers)

    async def hash(self, password: str) -> str:
        # A timeout, so that a barrier that can never fill (more parties than requests) fails
        # the test with a 500 instead of hanging it.
        async with asyncio.timeout(BARRIER_TIMEOUT_SECONDS):
            await self._everyone_here.wait()
        return await self._hasher.hash(password)


async def test_twenty_registrations_with_one_email_make_one_account(
    app, client, override_dependency
):
    """Twenty registrations with one email, sent at once: exactly one 201, nineteen 409s, and
    one row in the users table.

    Luck decides whether twenty requests really overlap. Make sure they do: override
    get_password_hasher with a hasher whose hash() first waits on an asyncio.Barrier(20), so
    that every request is past its checks before any of them writes.

    A Barrier whose parties outnumber the requests never opens, and the test hangs: use one n
    for Barrier(n) and range(n), and give barrier.wait() a timeout."""
    resources = resources_of(app)
    racing_hasher = HashersWaitForEachOther(resources.password_hasher, racers=RACERS)
    override_dependency(get_password_hasher, lambda: racing_hasher)
    registration = {"email": "race@example.com", "password": "correct horse"}

    responses = await asyncio.gather(
        *(client.post("/users", json=registration) for _ in range(RACERS))
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * (RACERS - 1), f"one winner, the rest conflicts: {statuses}"
    async with resources.sessionmaker() as session:
        rows = await session.scalar(select(func.count()).select_from(User))
    assert rows == 1, f"{rows} accounts with one email"


# --8<-- [end:barrier]


async def test_different_users_can_be_read_at_the_same_moment(client, create_user, login):
    """Five users, read at once with GET /users/{id} (the cache is cold): five 200s, each
    with the right user."""
    users = [await create_user() for _ in range(5)]
    tokens = await login(users[0])

    responses = await asyncio.gather(
        *(client.get(f"/users/{user.id}", headers=tokens.headers) for user in users)
    )

    assert [response.status_code for response in responses] == [200] * 5
    assert [response.json()["id"] for response in responses] == [str(user.id) for user in users]
