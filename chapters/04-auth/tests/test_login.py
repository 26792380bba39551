"""Exercise auth.login: POST /auth/token (the OAuth2 password flow) trades an email and a
password for a token pair of a new login; every failure looks the same and costs the same;
old hashes are upgraded; the answer is never cached."""

import pytest
from auth_helpers import form, tokens_from, unverified_claims
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import text

pytestmark = pytest.mark.exercise("auth.login")

WHERE = (
    "Finish authenticate and start_login in app/auth/service.py and the login route in "
    "app/auth/router.py (exercise auth.login)."
)


# Hashes made with other argon2 parameters than the settings' (cheap ones: the suite stays fast).
OLD_HASHING = PasswordHash((Argon2Hasher(time_cost=2, memory_cost=2048, parallelism=1),))


async def post_login(client, username: str, password: str):
    return await client.post("/auth/token", data=form(username, password))


async def must_log_in(client, user) -> None:
    """A right password works, or the tests of failures below would pass for nothing."""
    response = await post_login(client, user.email, user.password)
    assert response.status_code == 200, (
        f"POST /auth/token with the right email and password should answer 200; it answered "
        f"{response.status_code}: {response.text}. {WHERE} It also needs auth.passwords and "
        "auth.tokens done."
    )


async def test_login_answers_a_bearer_token_pair_of_one_new_login(client, create_user, settings):
    user = await create_user()

    response = await post_login(client, user.email, user.password)

    tokens = tokens_from(response, "POST /auth/token with the right email and password", WHERE)
    body = response.json()
    assert body.get("token_type") == "bearer", 'The answer should say "token_type": "bearer".'
    assert body.get("expires_in") == settings.access_token_ttl_seconds, (
        "expires_in should be the access token's lifetime in seconds: issue_token_pair says it."
    )
    access, refresh = map(unverified_claims, (tokens.access_token, tokens.refresh_token))
    assert (access.get("type"), refresh.get("type")) == ("access", "refresh"), (
        "access_token should be of type access and refresh_token of type refresh."
    )
    assert access.get("sub") == refresh.get("sub") == str(user.id), (
        "Both tokens should belong to the user who logged in (sub = the user's id)."
    )
    second = tokens_from(await post_login(client, user.email, user.password), "A second login")
    assert (
        access["family"]
        == refresh["family"]
        != unverified_claims(second.access_token).get("family")
    ), "Both tokens of a login share its family, and every login has a family of its own."


async def test_the_login_is_registered_with_its_refresh_token(client, create_user, resources):
    user = await create_user()

    tokens = tokens_from(await post_login(client, user.email, user.password), "POST /auth/token")

    refresh = unverified_claims(tokens.refresh_token)
    stored = await resources.redis.get(resources.logins.key(refresh["family"]))
    assert stored == refresh["jti"], (
        f"After a login, Redis should hold the login (LoginRegistry.key(family)) with the jti "
        f"of its refresh token, the one usable refresh token; it holds {stored!r}. Without it "
        f"no token of the login is accepted. Register the login in start_login. {WHERE}"
    )
    ttl = await resources.redis.ttl(resources.logins.key(refresh["family"]))
    assert 0 < ttl <= resources.settings.refresh_token_ttl_seconds, (
        f"The login should expire with its refresh token; its TTL is {ttl}. Use the registry's "
        f"own method for a new login (app/security/logins.py). {WHERE}"
    )


async def test_token_answers_are_never_cached(client, create_user):
    user = await create_user()

    response = await post_login(client, user.email, user.password)

    tokens_from(response, "POST /auth/token", WHERE)
    assert response.headers.get("cache-control") == "no-store", (
        f"The answer carries tokens: it should say `Cache-Control: no-store` (RFC 6749, 5.1), "
        f"so no cache, proxy or browser history keeps a copy; it says "
        f"{response.headers.get('cache-control')!r}. The refresh route already does. {WHERE}"
    )


async def test_the_email_matches_in_any_letter_case(client, create_user):
    user = await create_user(email="Ada.Lovelace@Example.com")

    for spelling in ("ada.lovelace@example.com", "ADA.LOVELACE@EXAMPLE.COM"):
        response = await post_login(client, spelling, user.password)

        assert response.status_code == 200, (
            f"Logging in as {spelling!r} should work for the account Ada.Lovelace@Example.com: "
            f"one account, any letter case. It answered {response.status_code}. {WHERE}"
        )


async def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(client, create_user):
    user = await create_user()
    await must_log_in(client, user)

    wrong_password = await post_login(client, user.email, "not the password")
    unknown_email = await post_login(client, "nobody@example.com", user.password)

    assert wrong_password.status_code == 401, (
        f"A wrong password should answer 401; it answered {wrong_password.status_code}: "
        f"{wrong_password.text}. {WHERE}"
    )
    assert wrong_password.headers.get("www-authenticate") == "Bearer", (
        "A 401 should carry `WWW-Authenticate: Bearer`: let http_errors() turn the domain's "
        "exception into the answer."
    )
    assert (unknown_email.status_code, unknown_email.json()) == (
        wrong_password.status_code,
        wrong_password.json(),
    ), (
        f"An unknown email and a wrong password must get the same answer, or an attacker "
        f"learns which emails have accounts. Unknown email: {unknown_email.status_code} "
        f"{unknown_email.text}; wrong password: {wrong_password.status_code} "
        f"{wrong_password.text}. Raise the same InvalidCredentials for both. {WHERE}"
    )


async def test_an_unknown_email_costs_one_argon2_verify_like_a_wrong_password(
    client, create_user, resources, monkeypatch
):
    user = await create_user()
    await must_log_in(client, user)
    password_hash = resources.password_hasher._password_hash
    verifies: list[str] = []
    for name in ("verify", "verify_and_update"):
        real = getattr(password_hash, name)

        def counted(*args, _real=real, **kwargs):
            verifies.append("verify")
            return _real(*args, **kwargs)

        monkeypatch.setattr(password_hash, name, counted)
    cost = {}
    for case, email in (("a wrong password", user.email), ("an unknown email", "no@example.com")):
        verifies.clear()
        await post_login(client, email, "not the password")
        cost[case] = len(verifies)

    assert cost == {"a wrong password": 1, "an unknown email": 1}, (
        f"Each failed login should cost exactly one argon2 verify, whatever failed, so the "
        f"time an answer takes does not reveal accounts; the argon2 verifies were {cost}. "
        f"An unknown email has a PasswordHasher method made for it. {WHERE}"
    )


async def test_a_hash_made_with_old_parameters_is_upgraded_at_login(
    client, create_user, stored_hash, resources, settings
):
    user = await create_user()
    async with resources.engine.begin() as connection:
        await connection.execute(
            text("UPDATE users SET hashed_password = :hashed WHERE id = :id"),
            {"hashed": OLD_HASHING.hash(user.password), "id": user.id},
        )

    response = await post_login(client, user.email, user.password)

    assert response.status_code == 200, (
        f"A password whose hash was made with older argon2 parameters is still the password: "
        f"the login should answer 200; it answered {response.status_code}. {WHERE}"
    )
    cost = f"m={settings.password_hash_memory_cost_kib},t={settings.password_hash_time_cost}"
    upgraded = await stored_hash(user)
    assert cost in upgraded, (
        f"After the login the stored hash should be made with today's parameters ({cost}), "
        f"replaced while the plain password was at hand (PasswordHasher.verify_and_update "
        f"says when); it is still {upgraded!r}. Store it, and commit. {WHERE}"
    )


@pytest.mark.parametrize(
    "username",
    ["a" * 5000, "nul\x00@example.com", "' OR 1=1 --", ""],
    ids=["very long", "NUL character", "SQL", "empty"],
)
async def test_any_username_is_a_401_never_a_500(client, create_user, username):
    await must_log_in(client, await create_user())

    response = await post_login(client, username, "some password")

    assert response.status_code in (401, 422), (
        f"A login form with the username {username[:40]!r} should be refused with 401 (or "
        f"422 when the form itself is invalid); it answered {response.status_code}. The "
        f"starter's first lines in authenticate skip what no stored email can match: keep "
        f"them. {WHERE}"
    )


async def test_an_account_from_before_passwords_cannot_log_in(client, create_user, resources):
    await must_log_in(client, await create_user())
    legacy = await create_user()
    # What the chapter's migration gives accounts that existed before passwords: the hash of
    # a secret nobody knows.
    async with resources.engine.begin() as connection:
        await connection.execute(
            text("UPDATE users SET hashed_password = :hashed WHERE id = :id"),
            {"hashed": OLD_HASHING.hash("a secret nobody knows"), "id": legacy.id},
        )

    response = await post_login(client, legacy.email, legacy.password)

    assert response.status_code == 401, (
        f"An account whose hash came from the migration should refuse every password with "
        f"401; it answered {response.status_code}. {WHERE}"
    )


async def test_failures_count_against_the_account_and_a_success_does_not(
    client, create_user, resources, monkeypatch
):
    user = await create_user(email="Ada.Count@example.com")
    limiter = resources.rate_limiter
    counted: list[str] = []
    real_hit, real_refund = limiter.hit, limiter.refund

    async def hit(name, identity, **limits):
        counted.append(f"hit {name}")
        return await real_hit(name, identity, **limits)

    async def refund(name, identity):
        counted.append(f"refund {name}")
        await real_refund(name, identity)

    monkeypatch.setattr(limiter, "hit", hit)
    monkeypatch.setattr(limiter, "refund", refund)

    right = await post_login(client, user.email, user.password)
    after_right = counted.count("hit password-guesses") - counted.count("refund password-guesses")
    await post_login(client, user.email, "not the password")
    after_wrong = counted.count("hit password-guesses") - counted.count("refund password-guesses")

    assert right.status_code == 200, f"The right password should log in: {right.text}. {WHERE}"
    assert (after_right, after_wrong) == (0, 1), (
        f"A right password must not count against the account, a wrong one must: the "
        f"password guesses left standing were {after_right} after the right password and "
        f"{after_wrong} after a wrong one. Check the password inside the starter's "
        f"`async with password_guess(...)` block, which counts the failures that leave it "
        f"with an exception and takes a success back. {WHERE}"
    )
