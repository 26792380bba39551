"""Exercise performance.resource_metrics: cache lookups by result, and connections in use.

Read from GET /metrics before and after the test's own work: the registry is shared by every
app of the test session.
"""

import asyncio
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest
from redis.asyncio import Redis
from scraping import Samples, scrape

from app import metrics
from app.users.cache import UserCache

pytestmark = pytest.mark.exercise("performance.resource_metrics")

EXERCISE = "(exercise performance.resource_metrics"
CACHE_WHERE = f"{EXERCISE}: UserCache in app/users/cache.py)"
POOL_WHERE = f"{EXERCISE}: track_pool_usage in app/metrics.py)"
LOOKUPS = "cache_lookups_total"
IN_USE = "db_pool_connections_in_use"
# Nothing listens on port 1: every Redis call fails at once, as when Redis is down.
DEAD_REDIS_URL = "redis://127.0.0.1:1/0"
CONCURRENT_READERS = 20
SECONDS_TO_GATHER = 10  # a bound for Redis to answer every reader, not a speed test


def lookups(after: Samples, before: Samples) -> dict[str, int]:
    return {
        result: int(
            after.value(LOOKUPS, cache="user", result=result)
            - before.value(LOOKUPS, cache="user", result=result)
        )
        for result in ("hit", "miss", "error")
    }


def cache_of(app, *, redis: Redis | None = None) -> UserCache:
    """A UserCache on the running app's resources, as a request gets one."""
    resources = app.state.resources
    return UserCache(
        redis=redis or resources.redis,
        engine=resources.read_engine,
        settings=resources.settings,
        flights=resources.flights,
    )


async def test_a_cold_read_is_a_miss_and_the_next_read_a_hit(app, client, create_user):
    user = await create_user()
    cache = cache_of(app)
    before = await scrape(client)

    await cache.get_user(user.id)
    cold = lookups(await scrape(client), before)
    await cache.get_user(user.id)
    warm = lookups(await scrape(client), before)

    assert cold == {"hit": 0, "miss": 1, "error": 0}, (
        f'The first read of a user finds no entry: {LOOKUPS}{{cache="user", result="miss"}} '
        f"should rise by 1 and nothing else; the counts rose by {cold}. Count each lookup "
        f"as a hit or a miss {CACHE_WHERE}."
    )
    assert warm == {"hit": 1, "miss": 1, "error": 0}, (
        f"The second read is served from Redis: after both reads, one hit and one miss; the "
        f"counts rose by {warm} {CACHE_WHERE}."
    )


def test_the_three_results_exist_from_the_start_at_zero():
    # A fresh process, so no earlier test's lookup has created a series: what the module
    # itself binds at import is what a freshly started worker shows on its first scrape.
    tree = Path(inspect.getfile(metrics)).resolve().parents[1]
    environment = {key: value for key, value in os.environ.items() if "PROMETHEUS" not in key}
    environment["PYTHONPATH"] = os.pathsep.join([str(tree), environment.get("PYTHONPATH", "")])
    show = "import app.main, prometheus_client; print(prometheus_client.generate_latest().decode())"
    shown = subprocess.run(
        [sys.executable, "-c", show],
        cwd=tree,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, f"Importing app.main failed:\n{shown.stderr[-2000:]}"
    exposition = shown.stdout
    absent = [
        result
        for result in ("hit", "miss", "error")
        if f'{LOOKUPS}{{cache="user",result="{result}"}} 0.0' not in exposition
    ]
    assert not absent, (
        f'A service that has just started should already show {LOOKUPS}{{cache="user", '
        f"result=...}} at 0 for hit, miss and error; {absent} did not exist yet. A series "
        f"made by .labels() at the first lookup is missing until then: the hit ratio has no "
        f'denominator and an alert on result="error" no series to watch before the first '
        f"error. Bind the three children once, at module level {CACHE_WHERE}."
    )


async def test_readers_missing_together_are_each_a_miss(
    app, client, create_user, login, query_counter, monkeypatch
):
    reader, target = await create_user(), await create_user()
    headers = (await login(reader)).headers
    assert (await client.get("/users/me", headers=headers)).status_code == 200  # reader cached
    # Hold the database load until Redis has answered every reader, so all of them miss.
    redis = app.state.resources.redis
    all_answered, answered = asyncio.Event(), 0
    original_mget, original_load = redis.mget, UserCache._from_database

    async def counted_mget(*args, **kwargs):
        nonlocal answered
        entries = await original_mget(*args, **kwargs)
        answered += 1
        if answered >= CONCURRENT_READERS:
            all_answered.set()
        return entries

    async def load_once_all_answered(self, user_id):
        if user_id == target.id:
            await asyncio.wait_for(all_answered.wait(), SECONDS_TO_GATHER)
        return await original_load(self, user_id)

    monkeypatch.setattr(redis, "mget", counted_mget)
    monkeypatch.setattr(UserCache, "_from_database", load_once_all_answered)
    before = await scrape(client)
    query_counter.reset()

    responses = await asyncio.gather(
        *(client.get(f"/users/{target.id}", headers=headers) for _ in range(CONCURRENT_READERS))
    )
    counted = lookups(await scrape(client), before)

    statuses = sorted({response.status_code for response in responses})
    assert statuses == [200], f"Every concurrent read should answer 200; got {statuses}."
    assert query_counter.count == 1, (
        f"{CONCURRENT_READERS} concurrent misses should still share one database load "
        f"(single flight); they sent {query_counter.count} statements {CACHE_WHERE}."
    )
    expected = {"hit": CONCURRENT_READERS, "miss": CONCURRENT_READERS, "error": 0}
    assert counted == expected, (
        f"{CONCURRENT_READERS} readers found the target's entry missing at the same moment "
        f"(and their own entry cached): that is {CONCURRENT_READERS} misses and "
        f"{CONCURRENT_READERS} hits, though one load served them all. The counts rose by "
        f"{counted}. A miss counted in the load counts loads, not lookups: count where the "
        f"entry is looked at {CACHE_WHERE}."
    )


async def test_a_read_while_redis_is_down_is_an_error_not_a_miss(app, client, create_user):
    user = await create_user()
    dead_redis = Redis.from_url(DEAD_REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    before = await scrape(client)

    try:
        found = await cache_of(app, redis=dead_redis).get_user(user.id)
    finally:
        await dead_redis.aclose()
    counted = lookups(await scrape(client), before)

    assert found.id == user.id, "With Redis down, the user should still come from PostgreSQL."
    assert counted == {"hit": 0, "miss": 0, "error": 1}, (
        f'A lookup that Redis could not answer should add 1 to {LOOKUPS}{{cache="user", '
        f'result="error"}} and nothing else: an outage must not look like a cold cache. The '
        f"counts rose by {counted} {CACHE_WHERE}."
    )


async def test_the_gauge_follows_the_connections_of_both_pools(app, client, create_user):
    resources = app.state.resources
    idle = (await scrape(client)).value(IN_USE)

    async with resources.engine.connect():
        one_session = (await scrape(client)).value(IN_USE)
        async with resources.read_engine.connect():
            both = (await scrape(client)).value(IN_USE)
    released = (await scrape(client)).value(IN_USE)
    await cache_of(app).get_user((await create_user()).id)  # a load through the read pool
    after_work = (await scrape(client)).value(IN_USE)

    held = {"sessions' pool": one_session - idle, "both pools": both - idle}
    replaced = (
        " (set_function keeps only the last function it was given: the second pool replaced "
        "the first)"
        if held["sessions' pool"] == 0 and "set_function" in inspect.getsource(metrics)
        else ""
    )
    assert held == {"sessions' pool": 1, "both pools": 2}, (
        f"Holding a connection of the sessions' pool, then one of the cache's read pool too, "
        f"should move {IN_USE} up by 1, then 2; it moved by {held}{replaced}. The gauge "
        f"counts the connections in use in every pool the lifespan passes to "
        f"track_pool_usage, as they are handed out {POOL_WHERE}."
    )
    assert (released, after_work) == (idle, idle), (
        f"Once the connections are back in their pools the gauge should be {idle:g} again; "
        f"it was {released:g}, then {after_work:g} after a cache load. Move it down when a "
        f"connection comes back {POOL_WHERE}."
    )
