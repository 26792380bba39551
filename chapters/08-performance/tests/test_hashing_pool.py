"""Worked section performance.hashing_pool: argon2 runs in a bounded pool of threads, off the
event loop, at a lower CPU priority, about one thread per core for the whole server.

The chapter gives this code (app/security/passwords.py, PASSWORD_HASH_WORKERS in
app/config.py): these tests pass before and after the exercises.
"""

import asyncio
import os
import sys
import threading

import pytest
from pwdlib import PasswordHash

from app.config import default_password_hash_workers
from app.security.passwords import HASHING_NICENESS

WORKERS = 2
LOGINS_AT_ONCE = 6


@pytest.fixture
def hashing_threads(monkeypatch) -> list[tuple[str, int, int]]:
    """(thread name, niceness, hashes running at that moment) of every hash from now on."""
    seen: list[tuple[str, int, int]] = []
    running = 0
    lock = threading.Lock()
    original = PasswordHash.hash

    def observed_hash(self, password, *args, **kwargs):
        nonlocal running
        with lock:
            running += 1
            niceness = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
            seen.append((threading.current_thread().name, niceness, running))
        try:
            return original(self, password, *args, **kwargs)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(PasswordHash, "hash", observed_hash)
    return seen


@pytest.mark.skipif(sys.platform != "linux", reason="thread priorities are set on Linux only")
async def test_hashes_queue_for_a_few_low_priority_threads(app_with, hashing_threads):
    event_loop_before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    async with app_with(password_hash_workers=WORKERS) as (app, _):
        hasher = app.state.resources.password_hasher
        hashing_threads.clear()  # the lifespan's own hash (the dummy one) aside
        await asyncio.gather(*(hasher.hash(f"password {n}") for n in range(LOGINS_AT_ONCE)))

    names = {name for name, _, _ in hashing_threads}
    assert len(hashing_threads) == LOGINS_AT_ONCE
    assert all(name.startswith("argon2") for name in names), f"hashed on {names}"
    assert len(names) <= WORKERS, f"{LOGINS_AT_ONCE} hashes at once used threads {names}"
    assert max(at_once for _, _, at_once in hashing_threads) <= WORKERS
    assert min(niceness for _, niceness, _ in hashing_threads) >= HASHING_NICENESS, (
        f"hashing threads should run at niceness {HASHING_NICENESS} or lower priority: "
        f"{hashing_threads}"
    )
    event_loop = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert event_loop == event_loop_before, "the event loop's own priority must stay as it was"


def test_the_default_shares_the_cores_among_the_workers(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    shared = default_password_hash_workers()
    monkeypatch.setenv("WEB_CONCURRENCY", "16")
    crowded = default_password_hash_workers()

    assert (shared, crowded) == (2, 1), "8 cores for 4 workers: 2 threads each; never 0"
