"""Exercise performance.resource_metrics: cache hits and misses, and the pool's connections.

The values are read from prometheus_client's global registry, the one /metrics serves. It is
shared by every app of the test session, so each test compares before and after.
"""

import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from app.users.cache import UserCache

pytestmark = pytest.mark.exercise("performance.resource_metrics")

EXERCISE = "(exercise performance.resource_metrics)"
CACHE_WHERE = f"Count it in UserCache.get_user, app/users/cache.py {EXERCISE}."
POOL_WHERE = f"Finish track_pool_usage in app/metrics.py {EXERCISE}."
# Nothing listens on port 1: every Redis call fails at once, as when Redis is down.
DEAD_REDIS_URL = "redis://127.0.0.1:1/0"


def cache_lookups(result: str) -> float:
    labels = {"cache": "user", "result": result}
    return REGISTRY.get_sample_value("cache_lookups_total", labels) or 0.0


def counted(since: tuple[float, float]) -> str:
    hits, misses = cache_lookups("hit") - since[0], cache_lookups("miss") - since[1]
    return f"hits +{hits:g}, misses +{misses:g}"


def pool_in_use() -> float:
    return REGISTRY.get_sample_value("db_pool_connections_in_use") or 0.0


async def test_a_cold_read_is_a_miss_and_the_next_read_a_hit(app, create_user):
    user = await create_user()
    before = cache_lookups("hit"), cache_lookups("miss")

    await app.state.user_cache.get_user(user.id)
    cold = counted(since=before)
    await app.state.user_cache.get_user(user.id)
    warm = counted(since=before)

    assert cold == "hits +0, misses +1", (
        f"The first read of a user is a miss: "
        f'cache_lookups_total{{cache="user",result="miss"}} should rise by 1 and the hits stay '
        f"put; got {cold}. {CACHE_WHERE}"
    )
    assert warm == "hits +1, misses +1", (
        f"The second read comes from Redis: a hit. After both reads, expected hits +1, "
        f"misses +1; got {warm}. {CACHE_WHERE}"
    )


async def test_a_read_while_redis_is_down_counts_as_a_miss(app, settings, create_user):
    user = await create_user()
    dead_redis = Redis.from_url(DEAD_REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    cache = UserCache(redis=dead_redis, sessionmaker=app.state.sessionmaker, settings=settings)
    before = cache_lookups("hit"), cache_lookups("miss")

    try:
        found = await cache.get_user(user.id)
    finally:
        await dead_redis.aclose()

    assert found.id == user.id, "With Redis down, the user should still come from PostgreSQL."
    rose = counted(since=before)
    assert rose == "hits +0, misses +1", (
        f"A read while Redis is down goes to PostgreSQL: it is a miss, and should add 1 to "
        f"the misses; got {rose}. Count the miss where get_user goes on to the database, "
        f"whatever emptied the cache read. {CACHE_WHERE}"
    )


async def test_the_pool_gauge_follows_connections_in_and_out(app, client, create_user):
    user = await create_user()
    idle = pool_in_use()

    async with app.state.engine.connect():
        held = pool_in_use()
    released = pool_in_use()
    response = await client.post(
        "/users", json={"email": "grace@example.com", "password": "correct horse battery"}
    )
    assert response.status_code == 201, response.text
    await app.state.user_cache.get_user(user.id)  # a load on a session of its own
    after_requests = pool_in_use()

    assert held == idle + 1, (
        f"While a connection is checked out of the pool, db_pool_connections_in_use should "
        f"be one higher ({idle + 1:g}); it is {held:g}. Listen to the pool's checkout and "
        f"checkin events. {POOL_WHERE}"
    )
    assert released == idle, (
        f"Once the connection is back in the pool the gauge should return to {idle:g}; it is "
        f"{released:g}. Move it down on checkin. {POOL_WHERE}"
    )
    assert after_requests == idle, (
        f"After requests have ended, every connection is back: the gauge should be "
        f"{idle:g} again; it is {after_requests:g}. {POOL_WHERE}"
    )
