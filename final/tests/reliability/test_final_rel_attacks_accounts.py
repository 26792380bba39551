"""Attacks on accounts: guessing passwords, finding out who is registered, acting on someone
else's account, granting oneself a role. Each test states the attack and the answer."""

import re

import pytest
from final_helpers import make_settings

from app.users.models import Role

PROBLEM = "application/problem+json"
LOGIN_LIMIT = 5


@pytest.fixture
def settings(database_url, redis_url, redis_namespace):
    return make_settings(database_url, redis_url, redis_namespace, login_rate_limit=LOGIN_LIMIT)


def form(email: str, password: str) -> dict[str, str]:
    return {"username": email, "password": password}


@pytest.fixture
def hashing_work(app):
    """What the password hasher is asked to do: (operation, argon2 parameters) per call."""
    calls: list[tuple[str, str | None]] = []
    hasher = app.state.resources.password_hasher
    in_pool = hasher._in_pool  # the one door to the argon2 threads

    async def recording(function, *args):
        stored = next((arg for arg in args[1:] if str(arg).startswith("$argon2")), None)
        parameters = stored.split("$")[3] if stored else None
        calls.append((function.__name__, parameters))
        return await in_pool(function, *args)

    hasher._in_pool = recording
    return calls


# --- guessing passwords ------------------------------------------------------------------


async def test_brute_force_on_one_account_is_stopped(client, create_user):
    """Attack: guessing one account's password as fast as possible. After the login limit
    the answer is 429 with Retry-After, even for the right password: the limiter must not
    become an oracle that says which guess was right."""
    user = await create_user()
    guesses = [
        await client.post("/auth/token", data=form(user.email, f"guess-{n}"))
        for n in range(LOGIN_LIMIT)
    ]

    right_password = await client.post("/auth/token", data=form(user.email, user.password))

    assert [guess.status_code for guess in guesses] == [401] * LOGIN_LIMIT
    assert right_password.status_code == 429
    assert right_password.headers["content-type"] == PROBLEM
    assert int(right_password.headers["Retry-After"]) >= 1
    assert "access_token" not in right_password.text


async def test_guessing_spread_over_many_accounts_is_stopped_too(client, create_user):
    """Attack: password spraying, one common password against many usernames, so that no
    single account sees many failures. The limit is per client, not per account: 429."""
    users = [await create_user() for _ in range(LOGIN_LIMIT + 1)]

    statuses = [
        (await client.post("/auth/token", data=form(u.email, "Summer2024!"))).status_code
        for u in users
    ]

    assert statuses == [401] * LOGIN_LIMIT + [429]


async def test_a_forged_forwarded_for_header_does_not_reset_the_limit(client, create_user):
    """Attack: a new `X-Forwarded-For` on every guess, to look like many clients. The app
    never reads that header (uvicorn replaces the client address only for trusted
    proxies, see test_final_two_processes.py), so the guesses share one budget: 429."""
    user = await create_user()

    statuses = [
        (
            await client.post(
                "/auth/token",
                data=form(user.email, "wrong"),
                headers={"X-Forwarded-For": f"198.51.100.{n}", "X-Real-IP": f"203.0.113.{n}"},
            )
        ).status_code
        for n in range(LOGIN_LIMIT + 1)
    ]

    assert statuses[-1] == 429


# --- finding out who is registered ---------------------------------------------------------


# Headers that differ between any two answers: the request's id and timing, the budget left.
VARYING = {"x-request-id", "x-process-time", "ratelimit-remaining", "content-length"}


def _comparable(response) -> tuple:
    body = response.json()
    headers = sorted(
        (k.lower(), v) for k, v in response.headers.items() if k.lower() not in VARYING
    )
    return response.status_code, body["code"], body["detail"], body["title"], headers


async def test_login_answers_do_not_tell_a_wrong_password_from_an_unknown_email(
    client, create_user
):
    """Attack: user enumeration through login messages. A wrong password for a real account
    and any password for an unknown email must get the same status, code, message and
    headers (only the request id differs)."""
    user = await create_user()

    wrong_password = await client.post("/auth/token", data=form(user.email, "not-it-123"))
    unknown_email = await client.post("/auth/token", data=form("nobody@example.com", "x" * 10))

    assert _comparable(wrong_password) == _comparable(unknown_email)


async def test_login_costs_the_same_work_for_an_unknown_email(client, create_user, hashing_work):
    """Attack: user enumeration through login timing (a known email costs a slow argon2
    verify, an unknown one might answer at once). Every failed login costs exactly one
    argon2 verify with the same parameters, whether the account exists or not, and whatever
    the length of the email."""
    user = await create_user()
    hashing_work.clear()

    await client.post("/auth/token", data=form(user.email, "not-it-123"))
    known = list(hashing_work)
    hashing_work.clear()
    await client.post("/auth/token", data=form("nobody@example.com", "not-it-123"))
    unknown = list(hashing_work)
    hashing_work.clear()
    await client.post("/auth/token", data=form("x" * 400 + "@example.com", "not-it-123"))
    too_long = list(hashing_work)

    assert len(known) == len(unknown) == len(too_long) == 1, (known, unknown, too_long)
    assert known[0][1] == unknown[0][1] == too_long[0][1], "the same argon2 parameters"


async def test_registration_says_taken_without_echoing_and_at_the_same_cost(
    client, create_user, hashing_work
):
    """Attack: user enumeration through registration. A registration API without an email
    round trip cannot hide that an address is taken (409 is the product's contract), so
    what it must not do is more: the answer does not repeat the address, and a taken
    address costs the same argon2 hash as a new one, so timing adds nothing."""
    user = await create_user()
    hashing_work.clear()

    taken = await client.post("/users", json={"email": user.email, "password": "password123"})
    taken_work = list(hashing_work)
    hashing_work.clear()
    new = await client.post("/users", json={"email": "new@example.com", "password": "password123"})

    assert taken.status_code == 409
    assert user.email.split("@")[0] not in taken.text
    assert [name for name, _ in taken_work] == [name for name, _ in hashing_work] == ["hash"]
    assert new.status_code == 201


async def test_another_letter_case_does_not_make_a_second_account(client, create_user):
    """Attack: registering `VICTIM@EXAMPLE.COM` next to `victim@example.com`, to receive
    their mail or confuse support. 409: an address is one account in any letter case."""
    user = await create_user(email="victim@example.com")

    response = await client.post(
        "/users", json={"email": "VICTIM@Example.COM", "password": "password123"}
    )

    assert response.status_code == 409
    assert user.email == "victim@example.com"


# --- acting on someone else's account ----------------------------------------------------


async def test_a_user_cannot_change_or_delete_another(client, create_user, login):
    """Attack: a logged-in user sends PATCH and DELETE to another user's id (an insecure
    direct object reference). 403 admin_required for both, and the victim is unchanged."""
    attacker, victim = await create_user(), await create_user(full_name="Victim")
    headers = (await login(attacker)).headers

    changed = await client.patch(
        f"/users/{victim.id}",
        json={"full_name": "Owned", "password": "attacker-pass"},
        headers=headers,
    )
    deleted = await client.delete(f"/users/{victim.id}", headers=headers)
    victim_now = await client.get(f"/users/{victim.id}", headers=headers)
    victim_login = await client.post("/auth/token", data=form(victim.email, victim.password))

    assert changed.status_code == deleted.status_code == 403
    assert changed.json()["code"] == deleted.json()["code"] == "admin_required"
    assert victim_now.json()["full_name"] == "Victim"
    assert victim_login.status_code == 200, "the victim's password is still theirs"


async def test_an_id_in_the_body_does_not_redirect_a_change(client, create_user, login):
    """Attack: PATCH /users/me with another user's `id` in the body, hoping the update is
    applied by that id. 422: unknown fields are refused, and the victim is unchanged."""
    attacker, victim = await create_user(), await create_user(full_name="Victim")
    headers = (await login(attacker)).headers

    response = await client.patch(
        "/users/me", json={"id": str(victim.id), "full_name": "Owned"}, headers=headers
    )
    victim_now = await client.get(f"/users/{victim.id}", headers=headers)

    assert response.status_code == 422
    assert victim_now.json()["full_name"] == "Victim"


# --- granting oneself more ---------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        {"role": "admin"},
        {"role": "ADMIN"},
        {"is_admin": True},
        {"hashed_password": "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA"},
        {"id": "00000000-0000-0000-0000-000000000001"},
        {"created_at": "2000-01-01T00:00:00Z"},
    ],
    ids=["role", "ROLE", "is_admin", "hashed_password", "id", "created_at"],
)
async def test_mass_assignment_is_refused(client, create_user, login, extra):
    """Attack: mass assignment, sending fields the client must not set (the role, the
    password hash, the id, timestamps) at registration and on PATCH /users/me. 422 for
    both, and the account stays a plain user."""
    user = await create_user()
    headers = (await login(user)).headers

    registered = await client.post(
        "/users", json={"email": "mass@example.com", "password": "password123", **extra}
    )
    patched = await client.patch("/users/me", json={"full_name": "M", **extra}, headers=headers)
    me = await client.get("/users/me", headers=headers)

    assert registered.status_code == 422
    assert patched.status_code == 422
    assert me.json()["role"] == Role.USER


async def test_a_role_in_the_query_string_is_ignored(client, create_user, login):
    """Attack: the role sent as a query parameter (`PATCH /users/me?role=admin`), where a
    framework might bind it. The change applies to the body alone: still a user."""
    user = await create_user()
    headers = (await login(user)).headers

    response = await client.patch(
        "/users/me?role=admin&is_admin=true", json={"full_name": "Q"}, headers=headers
    )

    assert response.status_code == 200
    assert response.json()["role"] == Role.USER


async def test_no_answer_ever_carries_a_password_or_its_hash(
    client, create_user, login, admin_tokens
):
    """Attack: reading password hashes from API answers (to crack them offline). No answer
    of any user route contains the password, its hash, or the field's name."""
    user = await create_user(password="a-secret-passphrase")
    headers = (await login(user)).headers
    answers = [
        await client.post("/users", json={"email": "h@example.com", "password": "a-secret-pass"}),
        await client.get("/users/me", headers=headers),
        await client.get(f"/users/{user.id}", headers=headers),
        await client.get("/users", headers=admin_tokens.headers),
        await client.patch(
            "/users/me",
            json={"password": "another-secret", "current_password": "a-secret-passphrase"},
            headers=headers,
        ),
        await client.patch(
            f"/users/{user.id}", json={"full_name": "H"}, headers=admin_tokens.headers
        ),
    ]

    for answer in answers:
        assert answer.status_code < 300, answer.text
        assert not re.search(r"argon2|hashed_password|secret", answer.text), answer.text
