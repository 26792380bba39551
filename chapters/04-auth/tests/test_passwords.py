"""Exercise auth.passwords: argon2id hashes, never the password, computed off the event loop;
a verify for logins with an unknown email; new hashes for hashes made with old parameters."""

import threading

import pytest
from auth_helpers import DEFAULT_PASSWORD
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

pytestmark = pytest.mark.exercise("auth.passwords")

WHERE = "Finish PasswordHasher in app/security/passwords.py (exercise auth.passwords)."
# What a hash made with other parameters looks like: pwdlib's own cheap argon2 settings.
OLD_PARAMETERS = {"time_cost": 2, "memory_cost": 2048, "parallelism": 1}


def spy_on_argon2(monkeypatch, hasher) -> dict[str, list[threading.Thread]]:
    """Wrap the pwdlib PasswordHash the hasher owns: which thread runs each call."""
    password_hash = getattr(hasher, "_password_hash", None)
    assert password_hash is not None, (
        f"PasswordHasher should keep the pwdlib PasswordHash built in __init__ as "
        f"self._password_hash (the starter does). {WHERE}"
    )
    threads: dict[str, list[threading.Thread]] = {
        "hash": [],
        "verify": [],
        "verify_and_update": [],
    }
    for name in threads:
        real = getattr(password_hash, name)

        def recorded(*args, _real=real, _name=name, **kwargs):
            threads[_name].append(threading.current_thread())
            return _real(*args, **kwargs)

        monkeypatch.setattr(password_hash, name, recorded)
    return threads


async def a_real_hash(hasher) -> str:
    hashed = await hasher.hash(DEFAULT_PASSWORD)
    looks_right = isinstance(hashed, str) and hashed.startswith("$argon2id$")
    assert looks_right, (
        f"hash() should return an argon2id hash, text starting with '$argon2id$'; it returned "
        f"{hashed!r}. Hash with self._password_hash, which __init__ built. {WHERE}"
    )
    return hashed


async def test_registration_stores_an_argon2id_hash_made_with_the_settings(
    client, settings, create_user, stored_hash
):
    user = await create_user()

    hashed = await stored_hash(user)

    assert hashed.startswith("$argon2id$"), (
        f"users.hashed_password should hold an argon2id hash, which starts with '$argon2id$'; "
        f"it holds {hashed[:24]!r}. Write PasswordHasher.hash. {WHERE}"
    )
    assert DEFAULT_PASSWORD not in hashed, "The hash must never contain the password."
    cost = (
        f"m={settings.password_hash_memory_cost_kib},t={settings.password_hash_time_cost},"
        f"p={settings.password_hash_parallelism}"
    )
    assert cost in hashed, (
        f"The hash should use the cost from the settings ({cost}); it is {hashed!r}. Hash "
        f"with self._password_hash, which __init__ builds from the settings. {WHERE}"
    )


async def test_each_hash_has_a_salt_of_its_own(resources):
    hasher = resources.password_hasher

    first, second = await a_real_hash(hasher), await a_real_hash(hasher)

    assert first != second, (
        "Hashing one password twice should give two hashes: argon2 draws a random salt each "
        "time, so equal passwords do not show in a leaked table as equal hashes. Do not build "
        f"your own hashing: self._password_hash salts for you. {WHERE}"
    )


async def test_verify_accepts_the_right_password_and_refuses_a_wrong_one(resources):
    hasher = resources.password_hasher
    hashed = await a_real_hash(hasher)

    right = await hasher.verify(DEFAULT_PASSWORD, hashed)
    wrong = await hasher.verify("not the password", hashed)

    assert right is True, f"verify(password, its hash) should be True; it is {right!r}. {WHERE}"
    assert wrong is False, f"verify(another password, the hash) should be False. {WHERE}"


async def test_verify_and_update_replaces_a_hash_made_with_other_parameters(resources):
    hasher = resources.password_hasher
    current = await a_real_hash(hasher)
    old = PasswordHash((Argon2Hasher(**OLD_PARAMETERS),)).hash(DEFAULT_PASSWORD)

    with_old = await hasher.verify_and_update(DEFAULT_PASSWORD, old)
    with_current = await hasher.verify_and_update(DEFAULT_PASSWORD, current)
    wrong = await hasher.verify_and_update("not the password", old)

    upgraded = with_old[0] is True and isinstance(with_old[1], str)
    assert upgraded, (
        f"verify_and_update(password, a hash made with other argon2 parameters) should answer "
        f"(True, a new hash made with today's); it answered {with_old!r}. pwdlib's "
        f"PasswordHash has a method that does both at once. {WHERE}"
    )
    assert await hasher.verify(DEFAULT_PASSWORD, with_old[1]), "The new hash must verify."
    assert with_current == (True, None), (
        f"A hash made with today's parameters needs no update: (True, None) expected, got "
        f"{with_current!r}. {WHERE}"
    )
    assert wrong == (False, None), (
        f"A wrong password gives (False, None), and never a new hash; got {wrong!r}. {WHERE}"
    )


async def test_argon2_runs_in_a_worker_thread_not_on_the_event_loop(resources, monkeypatch):
    hasher = resources.password_hasher
    threads = spy_on_argon2(monkeypatch, hasher)
    event_loop_thread = threading.current_thread()

    hashed = await hasher.hash(DEFAULT_PASSWORD)
    await hasher.verify(DEFAULT_PASSWORD, hashed)
    await hasher.verify_and_update(DEFAULT_PASSWORD, hashed)

    for name in threads:
        assert threads[name], f"{name}() never called self._password_hash.{name}. {WHERE}"
        assert event_loop_thread not in threads[name], (
            f"{name}() ran argon2 on the event loop's thread: for those milliseconds no other "
            f"request of the process is served. Hand the call to a worker thread "
            f"(asyncio.to_thread) and await it. {WHERE}"
        )


async def test_verify_nothing_spends_one_real_verify_off_the_loop(resources, monkeypatch):
    hasher = resources.password_hasher
    await a_real_hash(hasher)
    threads = spy_on_argon2(monkeypatch, hasher)
    event_loop_thread = threading.current_thread()

    answer = await hasher.verify_nothing("whatever an attacker typed")

    spent = len(threads["verify"]) + len(threads["verify_and_update"])
    assert spent == 1, (
        f"verify_nothing should run exactly one argon2 verify (against self._dummy_hash, "
        f"which prepare() made), so that an unknown email costs as much as a wrong password; "
        f"it ran {spent}. {WHERE}"
    )
    assert event_loop_thread not in threads["verify"], (
        f"verify_nothing ran argon2 on the event loop's thread: go through verify(). {WHERE}"
    )
    assert answer is None, "verify_nothing answers nothing: there is no account to log in to."
