"""Exercise auth.login: POST /auth/token (the OAuth2 password flow) trades an email and a
password for a token pair, and every failure looks the same, at the same cost."""

import secrets

import pytest
from auth_helpers import tokens_from, unverified_claims
from pwdlib import PasswordHash
from sqlalchemy import text

pytestmark = pytest.mark.exercise("auth.login")

WHERE = (
    "Finish authenticate in app/auth/service.py and the login route in app/auth/router.py "
    "(exercise auth.login)."
)


async def post_login(client, username: str, password: str):
    # OAuth2's password flow: a form, and the email travels as `username`.
    return await client.post("/auth/token", data={"username": username, "password": password})


async def must_log_in(client, user) -> None:
    """A right password works, or the tests of failures below would pass for nothing."""
    response = await post_login(client, user.email, user.password)
    assert response.status_code == 200, (
        f"POST /auth/token with the right email and password should answer 200; it answered "
        f"{response.status_code}: {response.text}. {WHERE} (It needs auth.passwords done.)"
    )


async def test_login_answers_a_bearer_token_pair(client, create_user, settings):
    user = await create_user()

    response = await post_login(client, user.email, user.password)

    tokens = tokens_from(response, "POST /auth/token with the right email and password", WHERE)
    body = response.json()
    assert body.get("token_type") == "bearer", 'The answer should say "token_type": "bearer".'
    assert body.get("expires_in") == settings.access_token_ttl_seconds, (
        "expires_in should be the access token's lifetime in seconds: use issue_token_pair."
    )
    access, refresh = map(unverified_claims, (tokens.access_token, tokens.refresh_token))
    assert (access.get("type"), refresh.get("type")) == ("access", "refresh"), (
        "access_token should be of type access and refresh_token of type refresh."
    )
    assert access.get("sub") == refresh.get("sub") == str(user.id), (
        "Both tokens should belong to the user who logged in (sub = the user's id)."
    )


async def test_the_email_matches_in_any_letter_case(client, create_user):
    user = await create_user(email="Ada.Lovelace@Example.com")

    for spelling in ("ada.lovelace@example.com", "ADA.LOVELACE@EXAMPLE.COM"):
        response = await post_login(client, spelling, user.password)

        assert response.status_code == 200, (
            f"Logging in as {spelling!r} should work for the account Ada.Lovelace@Example.com: "
            f"one account, any letter case. It answered {response.status_code}. Look the user "
            f"up with get_user_by_email (app/users/service.py). {WHERE}"
        )


async def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(client, create_user):
    user = await create_user()
    await must_log_in(client, user)

    wrong_password = await post_login(client, user.email, "not the password")
    unknown_email = await post_login(client, "nobody@example.com", user.password)

    assert wrong_password.status_code == 401, (
        f"A wrong password should answer 401; it answered {wrong_password.status_code}. "
        f"Turn InvalidCredentials into unauthorized(...). {WHERE}"
    )
    assert wrong_password.headers.get("www-authenticate") == "Bearer", (
        "A 401 should carry `WWW-Authenticate: Bearer` (unauthorized() adds it)."
    )
    assert (unknown_email.status_code, unknown_email.json()) == (
        wrong_password.status_code,
        wrong_password.json(),
    ), (
        f"An unknown email and a wrong password must get the same answer, or an attacker "
        f"learns which emails have accounts. Unknown email: {unknown_email.status_code} "
        f"{unknown_email.text}; wrong password: {wrong_password.status_code} "
        f"{wrong_password.text}. Raise the same InvalidCredentials for both."
    )


async def test_an_unknown_email_costs_one_argon2_verify_like_a_wrong_password(
    client, create_user, app, monkeypatch
):
    user = await create_user()
    await must_log_in(client, user)
    password_hash = app.state.password_hasher._password_hash
    verifies: list[str] = []
    real_verify = password_hash.verify

    def counted(*args, **kwargs):
        verifies.append("verify")
        return real_verify(*args, **kwargs)

    monkeypatch.setattr(password_hash, "verify", counted)
    cost = {}
    for case, email in (("a wrong password", user.email), ("an unknown email", "no@example.com")):
        verifies.clear()
        await post_login(client, email, "not the password")
        cost[case] = len(verifies)

    assert cost == {"a wrong password": 1, "an unknown email": 1}, (
        f"Each failed login should cost exactly one argon2 verify, whatever failed, so the "
        f"time an answer takes does not reveal accounts; the argon2 verifies were {cost}. For "
        f"an unknown email, call password_hasher.verify_nothing(password) before raising "
        f"InvalidCredentials. {WHERE}"
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
        f"422 when the form itself is invalid); it answered {response.status_code}. Look the "
        f"user up with get_user_by_email, which refuses what PostgreSQL cannot store."
    )


async def test_an_account_from_before_passwords_cannot_log_in(client, create_user, app):
    await must_log_in(client, await create_user())
    legacy = await create_user()
    # What the chapter's migration gives accounts that existed before passwords: the hash of
    # a secret nobody knows, made with pwdlib's default argon2 cost (not the settings').
    unusable = PasswordHash.recommended().hash(secrets.token_urlsafe(32))
    async with app.state.engine.begin() as connection:
        await connection.execute(
            text("UPDATE users SET hashed_password = :hashed WHERE id = :id"),
            {"hashed": unusable, "id": legacy.id},
        )

    response = await post_login(client, legacy.email, legacy.password)

    assert response.status_code == 401, (
        f"An account whose hash came from the migration should refuse every password with "
        f"401; it answered {response.status_code}. {WHERE}"
    )
