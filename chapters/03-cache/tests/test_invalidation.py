"""Exercise cache.invalidation: after an update or a delete, no read answers the old user,
not even one that came in during the commit or a load that began before the write."""

import asyncio

import pytest
from cache_helpers import require_the_apps_own_client
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

pytestmark = pytest.mark.exercise("cache.invalidation")

WHERE = "(UserCache.invalidate and app/users/service.py, exercise cache.invalidation)"


async def read_and_cache(client, redis_client, cache_key, user_id) -> dict:
    """Reads the user, and checks that the read left it in Redis (else this proves nothing)."""
    response = await client.get(f"/users/{user_id}")
    assert response.status_code == 200, f"GET /users/{{id}} answered {response.status_code}."
    assert await redis_client.exists(cache_key(user_id)), (
        "A read should leave the user in Redis before invalidation can be tested: do "
        "exercises cache.client and cache.aside first."
    )
    return response.json()


async def test_a_read_after_an_update_answers_the_new_user(
    client, create_user, redis_client, cache_key
):
    user_id = await create_user(full_name="Before")
    await read_and_cache(client, redis_client, cache_key, user_id)

    patched = await client.patch(f"/users/{user_id}", json={"full_name": "After"})
    dropped = not await redis_client.exists(cache_key(user_id))
    after = await client.get(f"/users/{user_id}")

    assert patched.status_code == 200, f"PATCH /users/{{id}} answered {patched.status_code}."
    assert after.json()["full_name"] == "After", (
        f"After PATCH full_name=After, a read still answers {after.json()['full_name']!r} from "
        f"the cache: drop the user's entry in UserCache.invalidate, and call it in "
        f"service.update_user once the change is committed {WHERE}."
    )
    assert dropped, "The PATCH itself should drop the cached entry, not only a later read."


async def test_a_read_after_a_delete_is_404(client, create_user, redis_client, cache_key):
    user_id = await create_user()
    await read_and_cache(client, redis_client, cache_key, user_id)

    deleted = await client.delete(f"/users/{user_id}")
    after = await client.get(f"/users/{user_id}")

    assert deleted.status_code == 204, (
        f"DELETE /users/{{id}} should still answer 204; it answered {deleted.status_code} "
        f"{deleted.text[:200]} {WHERE}."
    )
    assert after.status_code == 404, (
        f"A deleted user is still served from the cache ({after.status_code}): call "
        f"cache.invalidate in service.delete_user once the delete is committed {WHERE}."
    )
    assert not await redis_client.exists(cache_key(user_id)), (
        f"After the delete, Redis should no longer hold the user {WHERE}."
    )


async def test_a_read_during_the_commit_cannot_bring_the_old_user_back(
    client, create_user, redis_client, cache_key, monkeypatch
):
    user_id = await create_user(full_name="Before")
    await read_and_cache(client, redis_client, cache_key, user_id)
    # Hold the PATCH's commit, as a slow one would be, and read the user meanwhile.
    committing, go_on = asyncio.Event(), asyncio.Event()
    original_commit = AsyncSession.commit

    async def held_commit(self):
        if not committing.is_set():
            committing.set()
            await go_on.wait()
        await original_commit(self)

    monkeypatch.setattr(AsyncSession, "commit", held_commit)

    patch = asyncio.create_task(client.patch(f"/users/{user_id}", json={"full_name": "After"}))
    await committing.wait()
    during = await client.get(f"/users/{user_id}")  # the change is not committed yet
    go_on.set()
    patched = await patch
    after = await client.get(f"/users/{user_id}")

    assert (during.status_code, patched.status_code) == (200, 200), (
        f"A read during a PATCH and the PATCH itself should both answer 200; they answered "
        f"{during.status_code} and {patched.status_code} {patched.text[:200]} {WHERE}."
    )
    assert after.json()["full_name"] == "After", (
        "The cache was invalidated before the commit: a read that came in between loaded the "
        "old row and cached it again, so reads answer the old user until the TTL. Invalidate "
        f"once the change is committed {WHERE}."
    )


async def test_invalidate_forgets_the_load_in_flight_before_it_awaits(
    app, client, create_user, redis_client, cache_key
):
    user_id = await create_user()
    await read_and_cache(client, redis_client, cache_key, user_id)
    resources = app.state.resources
    assert isinstance(resources.redis, Redis), (
        "app.state.resources.redis is not a Redis client yet: do exercise cache.client first."
    )
    require_the_apps_own_client(app)
    steps: list[str] = []
    original_forget, original_delete = resources.flights.forget, resources.redis.delete

    def recorded_forget(key):
        steps.append(f"forget {key}")
        return original_forget(key)

    async def recorded_delete(*names):
        steps.append("DELETE")
        return await original_delete(*names)

    resources.flights.forget = recorded_forget  # on these instances only
    resources.redis.delete = recorded_delete

    patched = await client.patch(f"/users/{user_id}", json={"full_name": "Changed"})

    assert patched.status_code == 200, f"PATCH /users/{{id}} answered {patched.status_code}."
    assert steps[:2] == [f"forget {('user', user_id)}", "DELETE"], (
        f"A PATCH should make UserCache.invalidate forget the user's load in flight "
        f"(self._flights.forget with the key get_user gives it, ('user', user_id)), then "
        f"DELETE the entry; it did {steps}. Forget first, before anything awaits: a load "
        f"that read the old row could otherwise still write it to Redis just after the "
        f"DELETE {WHERE}."
    )
