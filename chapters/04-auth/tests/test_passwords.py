"""Exercise auth.passwords: argon2id hashes, never the password, computed off the event loop."""

import threading

import pytest
from auth_helpers import DEFAULT_PASSWORD
from sqlalchemy import text

pytestmark = pytest.mark.exercise("auth.passwords")

WHERE = "Finish PasswordHasher in app/auth/passwords.py (exercise auth.passwords)."


async def stored_hash(app, email: str) -> str:
    async with app.state.engine.connect() as connection:
        return await connection.scalar(
            text("SELECT hashed_password FROM users WHERE email = :email"), {"email": email}
        )


def spy_on_argon2(monkeypatch, hasher) -> dict[str, list[threading.Thread]]:
    """Wrap the pwdlib PasswordHash the hasher owns: which thread runs each hash and verify."""
    password_hash = getattr(hasher, "_password_hash", None)
    assert password_hash is not None, (
        f"PasswordHasher should keep the pwdlib PasswordHash built in __init__ as "
        f"self._password_hash (the starter does). {WHERE}"
    )
    threads: dict[str, list[threading.Thread]] = {"hash": [], "verify": []}
    for name in threads:
        real = getattr(password_hash, name)

        def recorded(*args, _real=real, _name=name, **kwargs):
            threads[_name].append(threading.current_thread())
            return _real(*args, **kwargs)

        monkeypatch.setattr(password_hash, name, recorded)
    return threads


async def test_registration_stores_an_argon2id_hash_never_the_password(client, app, settings):
    email = "ada@example.com"
    response = await client.post("/users", json={"email": email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 201, f"POST /users answered {response.status_code}."

    hashed = await stored_hash(app, email)

    assert hashed.startswith("$argon2id$"), (
        f"users.hashed_password should hold an argon2id hash, which starts with '$argon2id$'; "
        f"it holds {hashed[:24]!r}. Return self._password_hash.hash(password) from "
        f"PasswordHasher.hash. {WHERE}"
    )
    assert DEFAULT_PASSWORD not in hashed, "The hash must never contain the password."
    cost = (
        f"m={settings.password_hash_memory_cost_kib},t={settings.password_hash_time_cost},"
        f"p={settings.password_hash_parallelism}"
    )
    assert cost in hashed, (
        f"The hash should use the cost from the settings ({cost}); it is {hashed!r}. Hash "
        f"with self._password_hash, which __init__ builds from the settings."
    )


async def test_each_hash_has_a_salt_of_its_own(app):
    hasher = app.state.password_hasher

    first = await hasher.hash(DEFAULT_PASSWORD)
    second = await hasher.hash(DEFAULT_PASSWORD)

    assert first.startswith("$argon2id$"), f"hash() should return an argon2id hash. {WHERE}"
    assert first != second, (
        "Hashing one password twice should give two hashes: argon2 draws a random salt each "
        "time, so equal passwords do not show in the table as equal hashes."
    )


async def test_verify_accepts_the_right_password_and_refuses_a_wrong_one(app):
    hasher = app.state.password_hasher
    hashed = await hasher.hash(DEFAULT_PASSWORD)

    assert await hasher.verify(DEFAULT_PASSWORD, hashed) is True, (
        f"verify(password, its hash) should be True. Use self._password_hash.verify. {WHERE}"
    )
    assert await hasher.verify("not the password", hashed) is False, (
        "verify(another password, hash) should be False."
    )


async def test_argon2_runs_in_a_worker_thread_not_on_the_event_loop(app, monkeypatch):
    hasher = app.state.password_hasher
    threads = spy_on_argon2(monkeypatch, hasher)
    event_loop_thread = threading.current_thread()

    hashed = await hasher.hash(DEFAULT_PASSWORD)
    await hasher.verify(DEFAULT_PASSWORD, hashed)

    for name, where in (("hash", "hash()"), ("verify", "verify()")):
        assert threads[name], f"{where} never called self._password_hash.{name}. {WHERE}"
        assert event_loop_thread not in threads[name], (
            f"{where} ran argon2 on the event loop's thread: for those milliseconds no other "
            f"request is served. Run it with `await asyncio.to_thread(...)`. {WHERE}"
        )


async def test_verify_nothing_spends_one_real_verify_off_the_loop(app, monkeypatch):
    hasher = app.state.password_hasher
    threads = spy_on_argon2(monkeypatch, hasher)
    event_loop_thread = threading.current_thread()

    answer = await hasher.verify_nothing("whatever an attacker typed")

    assert len(threads["verify"]) == 1, (
        f"verify_nothing should run exactly one argon2 verify (against self._dummy_hash), so "
        f"that an unknown email costs as much as a wrong password; it ran "
        f"{len(threads['verify'])}. {WHERE}"
    )
    assert event_loop_thread not in threads["verify"], (
        "verify_nothing ran argon2 on the event loop's thread: go through verify(), which "
        "uses a worker thread."
    )
    assert answer is None, "verify_nothing answers nothing: there is no account to log in to."
