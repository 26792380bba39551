"""Exercise cache.single_flight: concurrent misses for one user share one database load, a
reader that goes away does not cancel it for the others, a finished run is forgotten (only its
own entry), and a load that a write overtook still answers its readers but caches nothing."""

import asyncio
from collections import Counter

import pytest
from cache_helpers import require_the_apps_own_client
from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from app.single_flight import SingleFlight

pytestmark = pytest.mark.exercise("cache.single_flight")

WHERE = "(SingleFlight in app/single_flight.py, exercise cache.single_flight)"


@pytest.fixture
async def client(app):
    """Here an exception that escapes the app is answered 500, as a server would."""
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def require_a_working_cache(app, client, create_user, redis_client, cache_key) -> None:
    """Single flight is about misses: the cache must store what it loads, or this proves
    nothing."""
    assert isinstance(app.state.resources.redis, Redis), (
        "app.state.resources.redis is not a Redis client yet, and single flight is about "
        "cache misses: do exercises cache.client and cache.aside first."
    )
    require_the_apps_own_client(app)
    other = await create_user()
    await client.get(f"/users/{other}")
    assert await redis_client.exists(cache_key(other)), (
        "A read should leave the user in Redis before single flight can be tested: do "
        "exercise cache.aside first."
    )


async def first_of(task: asyncio.Task, event: asyncio.Event) -> None:
    """Waits until the event is set, or the task is done (then the event never will be)."""
    waiting = asyncio.create_task(event.wait())
    await asyncio.wait([task, waiting], return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    assert event.is_set(), "The read finished before it reached the point this test waits for."


async def test_fifty_concurrent_misses_cost_one_query(
    app, client, create_user, redis_client, cache_key, query_counter
):
    await require_a_working_cache(app, client, create_user, redis_client, cache_key)
    user_id = await create_user()
    query_counter.reset()

    responses = await asyncio.gather(*(client.get(f"/users/{user_id}") for _ in range(50)))

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {200: 50}, f"Fifty reads of one user should all answer 200: {statuses}."
    assert len({response.text for response in responses}) == 1, "They should all agree."
    assert query_counter.count == 1, (
        f"Fifty simultaneous reads of a user nobody has cached yet sent {query_counter.count} "
        f"SQL statements: each miss loaded the row itself, a stampede on the database. Let "
        f"the callers of SingleFlight.run that ask for one key meanwhile await one shared "
        f"task {WHERE}."
    )


async def test_a_reader_that_goes_away_does_not_cancel_the_shared_load(
    app, client, create_user, redis_client, cache_key, monkeypatch
):
    await require_a_working_cache(app, client, create_user, redis_client, cache_key)
    user_id = await create_user(full_name="Shared")
    # Hold the load after it has read the row, and know when a second reader has missed.
    has_read, go_on, second_miss = asyncio.Event(), asyncio.Event(), asyncio.Event()
    loads: list[object] = []
    original_get, original_redis_get = AsyncSession.get, app.state.resources.redis.get

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
    monkeypatch.setattr(app.state.resources.redis, "get", counted_redis_get)

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
        f"shared work. Let each caller await it through asyncio.shield {WHERE}."
    )
    assert (answer.status_code, answer.json().get("full_name")) == (200, "Shared"), (
        f"The second reader, waiting on the shared load, got {answer.status_code} "
        f"{answer.text[:200]} instead of the user 'Shared': every caller receives what the "
        f"shared work returns {WHERE}."
    )
    assert len(loads) == 1, (
        f"The two concurrent reads loaded the user {len(loads)} times: the second should have "
        f"joined the first one's load {WHERE}."
    )


async def test_a_finished_load_is_not_reused_by_the_next_miss(
    app, client, create_user, redis_client, cache_key, settings
):
    await require_a_working_cache(app, client, create_user, redis_client, cache_key)
    user_id = await create_user(full_name="First")
    await client.get(f"/users/{user_id}")
    # The row changes behind the service's back (a script, a migration), then the entry expires.
    engine = create_async_engine(settings.database_url, poolclass=NullPool)
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE users SET full_name = 'Second' WHERE id = :id"), {"id": user_id}
        )
    await engine.dispose()
    await redis_client.delete(cache_key(user_id))

    after = await client.get(f"/users/{user_id}")

    assert after.json().get("full_name") == "Second", (
        f"After the entry expired, the next miss answered {after.text[:120]}, the user as an "
        f"old, finished run had read it: remove a run's entry from self._running when it is "
        f"done (a done-callback on the task), so the next miss starts a new one {WHERE}."
    )


async def test_a_load_overtaken_by_a_write_answers_its_reader_and_caches_nothing(
    app, client, create_user, redis_client, cache_key, monkeypatch
):
    await require_a_working_cache(app, client, create_user, redis_client, cache_key)
    user_id = await create_user(full_name="Old")
    forgotten: list[object] = []
    original_forget = app.state.resources.flights.forget

    def recorded_forget(key):
        forgotten.append(key)
        return original_forget(key)

    monkeypatch.setattr(app.state.resources.flights, "forget", recorded_forget)
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
    await first_of(reader, has_read)
    patched = await client.patch(f"/users/{user_id}", json={"full_name": "New"})
    go_on.set()
    overtaken = await reader  # it began before the write: answering "Old" is fair
    after = await client.get(f"/users/{user_id}")

    assert patched.status_code == 200, (
        f"PATCH /users/{{id}} should answer 200 while a load is in flight; it answered "
        f"{patched.status_code} {patched.text[:200]}."
    )
    assert forgotten, (
        "The PATCH never told the process's SingleFlight to forget the user's load: do "
        "exercise cache.invalidation first (UserCache.invalidate)."
    )
    assert overtaken.status_code == 200, (
        f"A reader whose load was overtaken by a write got {overtaken.status_code} "
        f"{overtaken.text[:120]} instead of its user: is_current must answer False, not "
        f"raise, once the key was forgotten or taken by a newer run (a KeyError there is a "
        f"500 for that reader) {WHERE}."
    )
    assert after.json().get("full_name") == "New", (
        "A load read the user, a PATCH changed it and invalidated the cache, then the load "
        "wrote what it had read: reads now answer the old user until the TTL. After forget, "
        "is_current must answer False inside the old run, so _load_and_cache does not write "
        f"{WHERE}."
    )


async def until(condition, what: str) -> None:
    """Lets the event loop run until `condition()` holds (tasks here never wait on I/O)."""
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0)
    pytest.fail(f"{what} did not happen {WHERE}.")


async def test_a_finished_run_removes_only_its_own_entry():
    flights = SingleFlight()
    started: list[str] = []
    gates = {"a": asyncio.Event(), "b": asyncio.Event()}

    async def work(name: str) -> str:
        started.append(name)
        if name in gates:
            await gates[name].wait()
        return name

    a = asyncio.create_task(flights.run("key", lambda: work("a")))
    await until(lambda: "a" in started, "run a starting")
    flights.forget("key")  # the data changed: the next caller starts run b
    b = asyncio.create_task(flights.run("key", lambda: work("b")))
    await until(lambda: "b" in started, "run b starting")
    gates["a"].set()
    await a  # run a finishes while run b holds the key
    c = asyncio.create_task(flights.run("key", lambda: work("c")))
    for _ in range(5):  # caller c arrives while run b still holds the key
        await asyncio.sleep(0)
    gates["b"].set()
    results = await asyncio.gather(b, c)

    assert ("c" in started, results) == (False, ["b", "b"]), (
        f"Run a was forgotten, run b took the key, then run a finished: its done-callback "
        f"removed run b's entry, so caller c started work of its own (runs started: "
        f"{started}) instead of joining b. When a run is done, remove the key only if the "
        f"entry is still that run {WHERE}."
    )
