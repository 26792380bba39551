"""Exercise cache.aside: a user read twice costs the database one query; the entry is JSON
under the test's prefix with a TTL and jitter; an unknown id caches nothing."""

import json
import logging
from uuid import uuid4

import pytest
from asgi_lifespan import LifespanManager
from cache_helpers import require_the_apps_own_client
from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis
from redis.exceptions import DataError

from app.main import create_app

pytestmark = pytest.mark.exercise("cache.aside")

WHERE = "(UserCache._read and UserCache._write in app/users/cache.py, exercise cache.aside)"


def require_the_client(app) -> Redis:
    redis = app.state.resources.redis
    assert isinstance(redis, Redis), (
        "app.state.resources.redis is not a Redis client yet, so the cache cannot reach "
        "Redis: do exercise cache.client first."
    )
    require_the_apps_own_client(app)
    return redis


def record_sets(app) -> list[tuple]:
    """Every SET the app's Redis client is asked for: (key, value), then it goes on."""
    redis = require_the_client(app)
    calls: list[tuple] = []
    original = redis.set

    async def recorded(name, value, *args, **kwargs):
        calls.append((name, value))
        return await original(name, value, *args, **kwargs)

    redis.set = recorded  # on this instance only
    return calls


def what_went_wrong(sets: list[tuple], caplog: pytest.LogCaptureFixture) -> str:
    """A sentence on what the app did instead of storing the user, when it says."""
    values = [value for _, value in sets]
    if values and not all(isinstance(value, str | bytes) for value in values):
        kind = type(next(v for v in values if not isinstance(v, str | bytes))).__name__
        return (
            f" The SET received a {kind}: Redis stores text and numbers, so redis-py refused "
            f"it (DataError). Store the user as JSON text (model_dump_json())."
        )
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    return f" The app logged: {warnings[0]!r}." if warnings else ""


def not_json(key: str, stored: str) -> str | None:
    """Why the entry under `key` is not a user's JSON text, or None when it is JSON."""
    try:
        json.loads(stored)
    except ValueError:
        python_repr = stored.startswith(("{'", "UserRead(")) or "UUID(" in stored
        looks = " (it looks like a Python repr: str() of a dict or a model)" if python_repr else ""
        return (
            f"The entry under {key!r} is not JSON{looks}: {stored[:70]!r}. _read cannot load "
            f"that back into a UserRead: in UserCache._write store user.model_dump_json() {WHERE}."
        )
    return None


async def read(client, user_id) -> dict:
    try:
        response = await client.get(f"/users/{user_id}")
    except DataError as error:  # the error itself is shown below this message, with its line
        raise AssertionError(
            f"redis-py refused the value UserCache._write gave to SET (DataError): Redis stores "
            f"text and numbers, not a dict or a model. In _write store user.model_dump_json() "
            f"{WHERE}."
        ) from error
    assert response.status_code == 200, (
        f"GET /users/{{id}} should answer 200 for a user that exists; it answered "
        f"{response.status_code} {response.text[:200]}."
    )
    return response.json()


async def test_the_second_read_sends_no_sql(
    app, client, create_user, query_counter, redis_client, cache_key, caplog
):
    sets = record_sets(app)
    user_id = await create_user()
    query_counter.reset()

    first = await read(client, user_id)
    queries_for_first = query_counter.count
    stored = await redis_client.get(cache_key(user_id))
    assert stored is None or not (why := not_json(cache_key(user_id), stored)), why
    query_counter.reset()
    second = await read(client, user_id)

    assert queries_for_first >= 1, "The first read is a miss: it should load from PostgreSQL."
    assert query_counter.count == 0, (
        f"The second read of the same user should come from Redis and send no SQL; it sent "
        f"{query_counter.count}, starting {query_counter.statements[0][:40]!r}. Look the user "
        f"up in Redis first (_read), and store it after a load (_write) {WHERE}."
        + what_went_wrong(sets, caplog)
    )
    assert second == first, "The cached user should be answered exactly as the loaded one."


async def test_the_entry_is_json_under_the_prefix_with_a_ttl(
    app, client, create_user, redis_client, cache_key, caplog
):
    settings = app.state.resources.settings
    sets = record_sets(app)
    user_id = await create_user()

    body = await read(client, user_id)
    key = cache_key(user_id)
    stored, ttl = await redis_client.get(key), await redis_client.ttl(key)

    assert stored is not None, (
        f"After a read, Redis should hold the user under {key!r} (UserCache.key, under the "
        f"settings' prefix); it holds nothing there {WHERE}." + what_went_wrong(sets, caplog)
    )
    assert ttl > 0, (
        f"The entry should expire (a TTL), or a user changed behind the service's back would "
        f"be served forever; its TTL is {ttl} (-1: none) {WHERE}."
    )
    shortest = settings.user_cache_ttl_seconds - 2  # a second or two may pass meanwhile
    longest = settings.user_cache_ttl_seconds + settings.user_cache_ttl_jitter_seconds
    assert shortest <= ttl <= longest, (
        f"The TTL should be user_cache_ttl_seconds plus 0..user_cache_ttl_jitter_seconds "
        f"({settings.user_cache_ttl_seconds}..{longest} s); it is {ttl} s {WHERE}."
    )
    assert not (why := not_json(key, stored)), why
    value = json.loads(stored)
    stored_id = value.get("id") if isinstance(value, dict) else None
    assert stored_id == str(user_id), (
        f"The value should be the user as JSON text; it is {stored[:80]!r} {WHERE}."
    )
    assert body == await read(client, user_id), (
        f"A read from the cache should answer exactly what the first read did: read the JSON "
        f"back into a UserRead {WHERE}."
    )


@pytest.mark.parametrize(
    "settings",
    [{"user_cache_ttl_seconds": 100, "user_cache_ttl_jitter_seconds": 100_000}],
    indirect=True,
    ids=["ttl-100-jitter-100000"],
)
async def test_jitter_spreads_the_expiries(app, client, create_user, redis_client, cache_key):
    require_the_client(app)
    user_ids = [await create_user() for _ in range(8)]

    for user_id in user_ids:
        await read(client, user_id)
    ttls = [await redis_client.ttl(cache_key(user_id)) for user_id in user_ids]

    assert all(98 <= ttl <= 100_100 for ttl in ttls), (
        f"With USER_CACHE_TTL_SECONDS=100 and USER_CACHE_TTL_JITTER_SECONDS=100000 every TTL "
        f"should be between 100 and 100100 s; they are {ttls} (-2: no entry) {WHERE}."
    )
    assert max(ttls) - min(ttls) > 2, (
        f"Eight users cached together get TTLs {ttls}: they would all expire, and all miss, "
        f"together. Add a random 0..user_cache_ttl_jitter_seconds to each TTL {WHERE}."
    )


async def test_an_unknown_user_is_404_and_caches_nothing(
    app, client, create_user, redis_client, cache_key
):
    require_the_client(app)
    known = await create_user()
    await read(client, known)
    assert await redis_client.exists(cache_key(known)), (
        f"A read of a user that exists should cache it first {WHERE}."
    )
    unknown = uuid4()

    response = await client.get(f"/users/{unknown}")

    assert response.status_code == 404, (
        f"An unknown id should still answer 404; it answered {response.status_code}."
    )
    assert not await redis_client.exists(cache_key(unknown)), (
        "Nothing should be cached for a user that does not exist."
    )


async def test_the_cache_can_be_turned_off(
    settings, app, client, create_user, redis_client, cache_key
):
    require_the_client(app)
    cached, uncached = await create_user(), await create_user()
    await read(client, cached)
    assert await redis_client.exists(cache_key(cached)), (
        f"With CACHE_ENABLED=true (the default) a read should cache the user {WHERE}."
    )
    off = create_app(settings.model_copy(update={"cache_enabled": False}))

    async with (
        LifespanManager(off),
        AsyncClient(transport=ASGITransport(app=off), base_url="http://test") as off_client,
    ):
        answered = (await off_client.get(f"/users/{uncached}")).status_code

    assert answered == 200, f"With CACHE_ENABLED=false reads still answer: {answered}."
    assert not await redis_client.exists(cache_key(uncached)), (
        "With CACHE_ENABLED=false (the benchmarks compare the service with and without its "
        "cache) nothing should be written to Redis; get_user asks `self.enabled` first."
    )
