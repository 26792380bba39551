"""Password hashing: production-strength argon2id, off the event loop, bounded, polite to the
event loop, upgraded on login.

The rest of the suite uses cheap parameters (conftest.FAST_PASSWORD_HASHING); this file
proves the real ones, and that a stored hash with other parameters is replaced at login.
"""

import asyncio
import os
import threading
import time

import pytest
from final_helpers import DEFAULT_PASSWORD, client_for, make_settings, running_app
from sqlalchemy import select

from app.config import Settings
from app.security.passwords import PasswordHasher
from app.users.models import User

PRODUCTION_PREFIX = "$argon2id$v=19$m=65536,t=3,p=1$"
# The defaults until one lane replaced four: hashes stored then must be upgraded at login.
FORMER_DEFAULTS = {
    "password_hash_time_cost": 3,
    "password_hash_memory_cost_kib": 65536,
    "password_hash_parallelism": 4,
}


async def test_the_default_settings_hash_with_production_argon2id():
    hasher = PasswordHasher(Settings(_env_file=None))
    try:
        hashed = await hasher.hash(DEFAULT_PASSWORD)
        valid, new_hash = await hasher.verify_and_update(DEFAULT_PASSWORD, hashed)
    finally:
        hasher.close()

    assert hashed.startswith(PRODUCTION_PREFIX), hashed
    assert valid
    assert new_hash is None, "a hash made with the current parameters needs no rehash"


@pytest.mark.parametrize(
    ("older", "older_prefix"),
    [
        ({}, "$argon2id$v=19$m=1024,t=1,p=1$"),  # the suite's cheap parameters
        (FORMER_DEFAULTS, "$argon2id$v=19$m=65536,t=3,p=4$"),  # four lanes, the old default
    ],
    ids=["cheap", "four-lanes"],
)
async def test_login_upgrades_a_hash_made_with_older_parameters(
    database_url, redis_url, redis_namespace, database_schema, settings, older, older_prefix
):
    production = make_settings(
        database_url,
        redis_url,
        redis_namespace,
        password_hash_time_cost=3,
        password_hash_memory_cost_kib=65536,
        password_hash_parallelism=1,
    )
    old_hasher = PasswordHasher(settings.model_copy(update=older))
    old_hash = await old_hasher.hash(DEFAULT_PASSWORD)
    old_hasher.close()
    async with running_app(production) as app, client_for(app) as client:
        async with app.state.resources.sessionmaker() as session:
            session.add(User(email="old@example.com", hashed_password=old_hash))
            await session.commit()
        form = {"username": "old@example.com", "password": DEFAULT_PASSWORD}

        first = await client.post("/auth/token", data=form)
        async with app.state.resources.sessionmaker() as session:
            stored = await session.scalar(select(User.hashed_password))
        second = await client.post("/auth/token", data=form)

    assert old_hash.startswith(older_prefix)
    assert first.status_code == 200
    assert stored.startswith(PRODUCTION_PREFIX), "the login should have rehashed the password"
    assert second.status_code == 200, "the upgraded hash still verifies"


async def test_hashing_runs_in_a_bounded_pool_off_the_event_loop(settings):
    hasher = PasswordHasher(settings.model_copy(update={"password_hash_workers": 2}))
    lock = threading.Lock()
    active, peak, threads = 0, 0, set()
    real_hash = hasher._password_hash.hash

    def observed_hash(password: str) -> str:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
            threads.add(threading.current_thread().name)
        time.sleep(0.05)  # hold the thread so that the others must queue
        with lock:
            active -= 1
        return real_hash(password)

    hasher._password_hash.hash = observed_hash
    try:
        await asyncio.gather(*(hasher.hash(f"password-{i}") for i in range(6)))
    finally:
        hasher.close()

    assert peak == 2, f"at most password_hash_workers hashes at once, saw {peak}"
    assert threading.main_thread().name not in threads
    assert all(name.startswith("argon2") for name in threads), threads


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="thread priorities are Linux's")
async def test_hashing_threads_yield_the_cpu_to_the_event_loop(settings):
    hasher = PasswordHasher(settings)

    def own_niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    try:
        in_pool = await hasher._in_pool(own_niceness)
    finally:
        hasher.close()
    on_loop = own_niceness()

    assert in_pool > on_loop, (
        f"a hashing thread should run at a lower priority (a higher niceness) than the event "
        f"loop: niceness {in_pool} in the pool, {on_loop} on the loop"
    )


def test_hashing_threads_default_to_the_cores_shared_by_the_workers(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    one_worker = Settings(_env_file=None).password_hash_workers
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    four_workers = Settings(_env_file=None).password_hash_workers
    monkeypatch.setenv("WEB_CONCURRENCY", "16")
    more_workers_than_cores = Settings(_env_file=None).password_hash_workers

    assert (one_worker, four_workers, more_workers_than_cores) == (8, 2, 1)
