"""Exercise auth.password_change: a stolen access token alone cannot take an account over.
A new email or password needs the current password, and wrong ones count as password guesses
against the account. A new password ends the user's other logins, including a login that
checked the old password while the change was being made: both orders of that race are
played here, one step at a time."""

import asyncio

import pytest
from auth_helpers import form, let_in_after_its_login_ended, must_know_the_caller

from app.security.exceptions import LoginStoreUnavailable

pytestmark = pytest.mark.exercise("auth.password_change")

CHECK = "change_account in app/users/service.py (exercise auth.password_change)"
SWEEP = "update_user in app/users/service.py (exercise auth.password_change)"
RECHECK = "start_login in app/auth/service.py (exercise auth.password_change)"
NEW_PASSWORD = "a brand new passphrase"


async def known(client, user, login):
    tokens = await login(user)
    await must_know_the_caller(client, tokens, user)
    return tokens


async def change(client, tokens, **changes):
    return await client.patch("/users/me", json=changes, headers=tokens.headers)


async def logs_in(client, user, password) -> int:
    return (await client.post("/auth/token", data=form(user.email, password))).status_code


async def test_a_wrong_current_password_changes_nothing(client, create_user, login, stored_hash):
    user = await create_user()
    tokens = await known(client, user, login)
    before = await stored_hash(user)

    password = await change(client, tokens, password=NEW_PASSWORD, current_password="guess")
    email = await change(client, tokens, email="thief@example.com", current_password="guess")

    for response, what in ((password, "a new password"), (email, "a new email")):
        assert response.status_code == 403, (
            f"PATCH /users/me with {what} and a wrong current_password should answer 403 "
            f"(WrongCurrentPassword); it answered {response.status_code}: {response.text}. "
            f"Check the current password in {CHECK}."
        )
    me = (await client.get("/users/me", headers=tokens.headers)).json()
    assert me.get("email") == user.email, f"The email must not have changed: {me}."
    assert await stored_hash(user) == before, "The password must not have changed."


async def test_the_right_current_password_lets_the_change_through(client, create_user, login):
    user = await create_user()
    tokens = await known(client, user, login)

    response = await change(client, tokens, password=NEW_PASSWORD, current_password=user.password)

    assert response.status_code == 200, (
        f"PATCH /users/me with a new password and the right current_password should answer "
        f"200; it answered {response.status_code}: {response.text}. {CHECK}"
    )
    old, new = await logs_in(client, user, user.password), await logs_in(client, user, NEW_PASSWORD)
    assert (old, new) == (401, 200), (
        f"After the change the old password should fail (401) and the new one work (200); "
        f"they answered {old} and {new}. {CHECK}"
    )


async def test_wrong_current_passwords_count_as_guesses_against_the_account(
    client, create_user, login, resources, monkeypatch
):
    user = await create_user(email="Ada.Guess@example.com")
    tokens = await known(client, user, login)
    limiter = resources.rate_limiter
    counted: list[tuple[str, str]] = []
    refunded: list[tuple[str, str]] = []
    real_hit, real_refund = limiter.hit, limiter.refund

    async def hit(name, identity, **limits):
        counted.append((name, identity))
        return await real_hit(name, identity, **limits)

    async def refund(name, identity):
        refunded.append((name, identity))
        await real_refund(name, identity)

    monkeypatch.setattr(limiter, "hit", hit)
    monkeypatch.setattr(limiter, "refund", refund)
    account = ("password-guesses", user.email.casefold())

    await change(client, tokens, email="new@example.com", current_password="a wrong guess")
    after_wrong = (counted.count(account), refunded.count(account))
    await change(client, tokens, password=NEW_PASSWORD, current_password=user.password)
    after_right = (counted.count(account), refunded.count(account))

    assert after_wrong == (1, 0), (
        f"A wrong current password should count as one password guess against the account "
        f"(limit 'password-guesses', identity the account's stored email, casefolded: "
        f"{user.email.casefold()!r}) and not be taken back; guesses counted and refunded: "
        f"{after_wrong}, all counts: {counted}. Check the password inside the block of "
        f"app/security/guesses.py's password_guess, as authenticate does. {CHECK}"
    )
    assert after_right == (2, 1), (
        f"The right current password counts too, and is taken back when the check passes "
        f"(password_guess does both); counted and refunded after it: {after_right}. {CHECK}"
    )


async def test_a_new_password_ends_the_other_logins_but_not_this_one(
    client, create_user, login, resources
):
    user = await create_user()
    this, other = await known(client, user, login), await login(user)

    response = await change(client, this, password=NEW_PASSWORD, current_password=user.password)

    assert response.status_code == 200, f"The change should go through: {response.text}"
    await let_in_after_its_login_ended(client, resources, other)
    assert (await client.get("/users/me", headers=other.headers)).status_code == 401, (
        f"A new password should end every other login of the user (a thief's stolen session "
        f"must not outlive the password it was opened with); the other login's token still "
        f"works. {SWEEP}"
    )
    assert (await client.get("/users/me", headers=this.headers)).status_code == 200, (
        f"The login that changed the password should stay logged in (keep_login). {SWEEP}"
    )


async def test_a_new_password_set_by_an_admin_ends_every_login(
    client, create_user, login, resources
):
    admin = await create_user(role="admin")
    admin_tokens = await known(client, admin, login)
    user = await create_user()
    users_tokens = await login(user)

    response = await client.patch(
        f"/users/{user.id}", json={"password": NEW_PASSWORD}, headers=admin_tokens.headers
    )

    assert response.status_code == 200, f"An admin's PATCH should go through: {response.text}"
    await let_in_after_its_login_ended(client, resources, users_tokens)
    assert (await client.get("/users/me", headers=users_tokens.headers)).status_code == 401, (
        f"A new password set by an admin should end every login of that user; one still "
        f"works. {SWEEP}"
    )


async def test_when_the_logins_cannot_be_ended_the_password_stays(
    client, create_user, login, resources, stored_hash, monkeypatch
):
    user = await create_user()
    tokens = await known(client, user, login)
    before = await stored_hash(user)

    async def redis_is_down(**kwargs):
        raise LoginStoreUnavailable()

    monkeypatch.setattr(resources.logins, "end_all", redis_is_down)
    try:
        response = await change(
            client, tokens, password=NEW_PASSWORD, current_password=user.password
        )
    except LoginStoreUnavailable:
        pytest.fail(f"LoginStoreUnavailable escaped the route as a 500. {SWEEP}")

    assert response.status_code == 503, (
        f"When Redis cannot end the other logins, PATCH /users/me should answer 503; it "
        f"answered {response.status_code}. A new password must end the other logins. {SWEEP}"
    )
    assert await stored_hash(user) == before, (
        f"When the logins cannot be ended the password must stay as it was (the old "
        f"sessions live on, so the new password would protect nothing); it was changed. "
        f"End them before the UPDATE as well (and keep the sweep after the commit). {SWEEP}"
    )


async def first_of(event: asyncio.Event, task: asyncio.Task) -> bool:
    """Wait until `event` is set (True) or `task` ended without it (False)."""
    waiter = asyncio.ensure_future(event.wait())
    await asyncio.wait({waiter, task}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    return event.is_set()


async def test_a_login_that_checked_the_old_password_during_the_change_is_ended(
    client, create_user, login, resources, monkeypatch
):
    """The login verifies the old password and pauses; the change runs to its end; then the
    login goes on. It must get no working token."""
    user = await create_user()
    changer = await known(client, user, login)
    hasher = resources.password_hasher
    verified, release = asyncio.Event(), asyncio.Event()
    for name in ("verify", "verify_and_update"):
        real = getattr(hasher, name)

        async def verify_then_wait(*args, _real=real):
            outcome = await _real(*args)
            if not verified.is_set():  # the racing login's check, the first one from now on
                verified.set()
                await release.wait()
            return outcome

        monkeypatch.setattr(hasher, name, verify_then_wait)
    racing = asyncio.create_task(client.post("/auth/token", data=form(user.email, user.password)))
    assert await first_of(verified, racing), "The login should check the password it was given."

    changed = await change(client, changer, password=NEW_PASSWORD, current_password=user.password)
    release.set()
    answer = await racing

    assert changed.status_code == 200, f"The change should go through: {changed.text}"
    if answer.status_code == 200:
        late = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        me = await client.get("/users/me", headers=late)
        assert me.status_code == 401, (
            f"A login that checked the old password while the change was being made got a "
            f"token that still works after the change (GET /users/me answered "
            f"{me.status_code}): it registered after the change's last sweep. Once "
            f"registered, the login must see whether the password is still the one it checked "
            f"(read the stored hash again) and end itself when it is not. {RECHECK}"
        )
    else:
        assert answer.status_code == 401, f"Expected 200 or 401: {answer.text}"


async def test_a_login_made_while_the_change_commits_is_ended_by_it(
    client, create_user, login, resources, monkeypatch
):
    """The change ends the logins it sees and pauses before its commit; a whole login with the
    old password goes through; then the change commits. That login must end with it."""
    user = await create_user()
    changer = await known(client, user, login)
    logins = resources.logins
    swept, login_done = asyncio.Event(), asyncio.Event()
    real_end_all = logins.end_all

    async def end_all_then_wait(**kwargs):
        await real_end_all(**kwargs)
        if not swept.is_set():  # the change's first sweep
            swept.set()
            await login_done.wait()

    monkeypatch.setattr(logins, "end_all", end_all_then_wait)
    pending = asyncio.create_task(
        change(client, changer, password=NEW_PASSWORD, current_password=user.password)
    )
    if not await first_of(swept, pending):
        pytest.fail(
            f"A new password should end the user's other logins (logins.end_all); the change "
            f"answered {(await pending).status_code} without calling it. {SWEEP}"
        )
    answer = await client.post("/auth/token", data=form(user.email, user.password))
    login_done.set()
    changed = await pending

    assert answer.status_code == 200, (
        f"This test pauses the change after its first end_all, which should come before the "
        f"UPDATE commits; but the old password no longer logged in then (login answered "
        f"{answer.status_code}), so the first sweep came after the commit. {SWEEP}"
    )
    assert changed.status_code == 200, f"The change should go through: {changed.text}"
    late = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    assert (await client.get("/users/me", headers=late)).status_code == 401, (
        f"A login made with the old password while the change was committing still works "
        f"after the change: end the other logins again once the new hash is committed. {SWEEP}"
    )
