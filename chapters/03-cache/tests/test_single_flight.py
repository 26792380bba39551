"""Exercise cache.single_flight: concurrent misses for one user share one database load, a
reader that goes away does not cancel it for the others, a finished load is forgotten, and a
load that a write overtook does not cache what it read."""

import asyncio
from collections import Counter

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

pytestmark = pytest.mark.exercise("cache.single_flight")

WHERE = "(UserCache._load_once in app/users/cache.py, exercise cache.single_flight)"


@pytest.fixture
async def client(app):
    """Here an exception that escapes the app is answered 500, as a server would."""
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_fifty_concurrent_misses_cost_one_query(client, create_user, query_counter):
    user_id = await create_user()
    query_counter.reset()

    responses = await asyncio.gather(*(client.get(f"/users/{user_id}") for _ in range(50)))

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {200: 50}, f"Fifty reads of one user should all answer 200: {statuses}."
    assert len({response.text for response in responses}) == 1, "They should all agree."
    assert query_counter.count == 1, (
        f"Fifty simultaneous reads of a user nobody has cached yet sent {query_counter.count} "
        f"SQL statements: each miss loaded the row itself, a stampede on the database. Let "
        f"concurrent misses for one user await one shared load (a Task per user in "
        f"self._loads) {WHERE}."
    )


async def test_a_load_overtaken_by_a_write_does_not_cache_the_old_user(
    app, client, create_user, redis_client, monkeypatch
):
    user_id = await create_user(full_name="Old")
    other = await create_user()
    await client.get(f"/users/{other}")
    assert await redis_client.exists(app.state.user_cache.key(other)), (
        "A read should leave the user in Redis before this can be tested: do exercise "
        "cache.aside first."
    )
    # Hold the next database load right after it has read the row, as a slow one would be.
    has_read, go_on = asyncio.Event(), asyncio.Event()
    original_get = AsyncSession.get

    async def held_get(self, *args, **kwargs):
        row = await original_get(self, *args, **kwargs)
        if not has_read.is_set():
            has_read.set()
            await go_on.wait()
        return row

    monkeypatch.setattr(AsyncSession, "get", held_get)

    reader = asyncio.create_task(client.get(f"/users/{user_id}"))
    waiting = asyncio.create_task(has_read.wait())
    await asyncio.wait([reader, waiting], return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    assert has_read.is_set(), "The cache's load should read the user with session.get."
    patched = await client.patch(f"/users/{user_id}", json={"full_name": "New"})
    go_on.set()
    await reader  # it began before the write: answering "Old" is fair
    after = await client.get(f"/users/{user_id}")

    assert patched.status_code == 200, (
        f"PATCH /users/{{id}} should answer 200 while a load is in flight; it answered "
        f"{patched.status_code} {patched.text[:200]}. Look at UserCache.invalidate {WHERE}."
    )
    assert after.json()["full_name"] == "New", (
        "A load read the user, a PATCH changed it and invalidated the cache, then the load "
        "wrote what it had read: reads now answer the old user until the TTL. In "
        "invalidate, forget the user's load first (self._loads.pop, before the DELETE), and "
        "let _load_and_cache write only if its load is still the registered one "
        "(UserCache.invalidate and UserCache._load_and_cache in app/users/cache.py, exercise "
        "cache.single_flight)."
    )


async def test_a_reader_that_goes_away_does_not_cancel_the_shared_load(
    app, client, create_user, redis_client, monkeypatch
):
    user_id = await create_user(full_name="Shared")
    other = await create_user()
    await client.get(f"/users/{other}")
    assert await redis_client.exists(app.state.user_cache.key(other)), (
        "A read should leave the user in Redis before this can be tested: do exercise "
        "cache.aside first."
    )
    # Hold the load after it has read the row, and know when a second reader has missed.
    has_read, go_on, second_miss = asyncio.Event(), asyncio.Event(), asyncio.Event()
    loads: list[object] = []
    original_get, original_redis_get = AsyncSession.get, app.state.redis.get

    async def held_get(self, *args, **kwargs):
        loads.append(args)
        row = await original_get(self, *args, **kwargs)
        if not has_read.is_set():
            has_read.set()
            await go_on.wait()
        return row

    redis_reads = 0

    async def counted_redis_get(*args, **kwargs):
        nonlocal redis_reads
        value = await original_redis_get(*args, **kwargs)
        redis_reads += 1
        if redis_reads == 2:
            second_miss.set()
        return value

    monkeypatch.setattr(AsyncSession, "get", held_get)
    monkeypatch.setattr(app.state.redis, "get", counted_redis_get)

    first = asyncio.create_task(client.get(f"/users/{user_id}"))
    await first_of(first, has_read)
    second = asyncio.create_task(client.get(f"/users/{user_id}"))
    await first_of(second, second_miss)
    first.cancel()  # the first client goes away while the load is in flight
    await asyncio.gather(first, return_exceptions=True)
    go_on.set()
    (answer,) = await asyncio.gather(second, return_exceptions=True)

    assert not isinstance(answer, BaseException), (
        f"The first reader went away and the second, waiting on the same load, got "
        f"{type(answer).__name__} instead of the user: cancelling one waiter cancelled the "
        f"shared load. Await it through asyncio.shield(load) {WHERE}."
    )
    assert answer.status_code == 200, (
        f"The second reader, waiting on the shared load, got {answer.status_code} "
        f"{answer.text[:200]} instead of the user: it should receive what the load returns "
        f"{WHERE}."
    )
    assert answer.json()["full_name"] == "Shared", (
        f"The second reader got {answer.json()!r} instead of the user 'Shared': return what "
        f"the shared load returns {WHERE}."
    )
    assert len(loads) == 1, (
        f"The two concurrent reads loaded the user {len(loads)} times: the second should have "
        f"joined the first one's load {WHERE}."
    )


async def test_a_finished_load_is_not_reused_by_the_next_miss(
    app, client, create_user, redis_client, settings
):
    user_id = await create_user(full_name="First")
    await client.get(f"/users/{user_id}")
    key = app.state.user_cache.key(user_id)
    assert await redis_client.exists(key), (
        "A read should leave the user in Redis before this can be tested: do exercise "
        "cache.aside first."
    )
    # The row changes behind the service's back (a script, a migration), then the entry expires.
    engine = create_async_engine(settings.database_url, poolclass=NullPool)
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE users SET full_name = 'Second' WHERE id = :id"), {"id": user_id}
        )
    await engine.dispose()
    await redis_client.delete(key)

    after = await client.get(f"/users/{user_id}")

    assert after.json()["full_name"] == "Second", (
        "After the entry expired, the next miss answered the user as an old, finished load "
        "had read it: forget a load when it is done (load.add_done_callback) so the next miss "
        f"starts a new one {WHERE}."
    )


async def first_of(task: asyncio.Task, event: asyncio.Event) -> None:
    """Waits until the event is set, or the task is done (then the event never will be)."""
    waiting = asyncio.create_task(event.wait())
    await asyncio.wait([task, waiting], return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    assert event.is_set(), "The read finished before it reached the point this test waits for."
