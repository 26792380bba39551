"""Attacks that once got through (issue 13's findings against the running service). Each test
states the attack and the answer the service must give now; each failed before its fix."""

import asyncio
import base64
import io
import json
import logging

import pytest
from asgi_lifespan import LifespanManager
from final_helpers import DEFAULT_PASSWORD, client_for, make_settings, parse_metrics, running_app

from app.logs import HANDLER_NAME
from app.main import create_app

PROBLEM = "application/problem+json"
LIMIT = 3


def _family_of(token: str) -> str:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["family"]


def form(email: str, password: str) -> dict[str, str]:
    return {"username": email, "password": password}


@pytest.fixture
def settings(database_url, redis_url, redis_namespace):
    return make_settings(
        database_url,
        redis_url,
        redis_namespace,
        registration_rate_limit=LIMIT,
        refresh_rate_limit=LIMIT,
        account_login_failure_limit=LIMIT,
    )


def client_from(app, address: str):
    """A client whose requests come from `address` (as uvicorn reports the peer)."""
    return client_for(app, client=(address, 50000))


async def test_the_default_secret_key_is_announced_at_start_up(
    database_url, redis_url, redis_namespace, database_schema
):
    """Finding 1: a server running with the public default key `change-me` said nothing, and
    anyone can sign tokens for it. Its start-up now logs a warning naming SECRET_KEY."""
    settings = make_settings(database_url, redis_url, redis_namespace, secret_key="change-me")
    application = create_app(settings)  # installs the JSON handler the lines go through
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == HANDLER_NAME)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        async with LifespanManager(application):
            pass
    finally:
        handler.setStream(previous)
    warnings = [
        line
        for line in map(json.loads, buffer.getvalue().splitlines())
        if line["level"] == "WARNING"
    ]

    assert any("SECRET_KEY" in line["message"] for line in warnings), warnings


async def test_a_login_racing_a_password_change_does_not_survive_it(
    app, client, create_user, login
):
    """Finding 2: a login that checked the old password while a change was being made kept
    working tokens after the change. Here the login has verified the old password and waits
    while the change runs to its end; then it must get no working token."""
    user = await create_user()
    changer = await login(user)
    hasher = app.state.resources.password_hasher
    verified, release = asyncio.Event(), asyncio.Event()
    real_verify = hasher.verify_and_update

    async def verify_then_wait(password: str, hashed: str):
        outcome = await real_verify(password, hashed)
        if password == user.password:  # only the racing login, not the change's own check
            verified.set()
            await release.wait()
        return outcome

    hasher.verify_and_update = verify_then_wait
    racing = asyncio.create_task(client.post("/auth/token", data=form(user.email, user.password)))
    await asyncio.wait_for(verified.wait(), 30)
    changed = await client.patch(
        "/users/me",
        json={"password": "a brand new passphrase", "current_password": user.password},
        headers=changer.headers,
    )
    release.set()
    answer = await racing

    assert changed.status_code == 200, changed.text
    if answer.status_code == 200:
        headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        me = await client.get("/users/me", headers=headers)
        assert me.status_code == 401, "a login that used the old password must not work after"
    else:
        assert answer.status_code == 401, answer.text
        assert answer.json()["code"] == "invalid_credentials"


async def test_a_login_made_while_a_password_change_commits_is_ended_by_it(
    app, client, create_user, login
):
    """Finding 2, the other order: the change has ended the logins it saw and not committed
    yet when a whole login with the old password goes through. The change's second sweep,
    after its commit, must end that login too."""
    user = await create_user()
    changer = await login(user)
    logins = app.state.resources.logins
    swept, login_done = asyncio.Event(), asyncio.Event()
    real_end_all = logins.end_all

    async def end_all_then_wait(**kwargs):
        await real_end_all(**kwargs)
        if not swept.is_set():  # the change's first sweep, before its commit
            swept.set()
            await login_done.wait()

    logins.end_all = end_all_then_wait
    change = asyncio.create_task(
        client.patch(
            "/users/me",
            json={"password": "a brand new passphrase", "current_password": user.password},
            headers=changer.headers,
        )
    )
    await asyncio.wait_for(swept.wait(), 30)
    answer = await client.post("/auth/token", data=form(user.email, user.password))
    login_done.set()
    changed = await change
    headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}

    assert answer.status_code == 200, "the old password was still the password"
    assert changed.status_code == 200, changed.text
    assert (await client.get("/users/me", headers=headers)).status_code == 401


async def test_a_stolen_access_token_cannot_take_the_account_over(client, create_user, login):
    """Finding 3: with an access token alone, an attacker changed the password (and the email)
    and so kept the account for good. A new email or password now needs the current password
    (422 without it, 403 when wrong), and wrong ones count as password guesses (429)."""
    user = await create_user()
    stolen = (await login(user)).headers

    no_current = await client.patch("/users/me", json={"password": "owned-by-me!"}, headers=stolen)
    new_email = await client.patch("/users/me", json={"email": "me@evil.example"}, headers=stolen)
    guesses = [
        await client.patch(
            "/users/me",
            json={"password": "owned-by-me!", "current_password": f"guess-{n}"},
            headers=stolen,
        )
        for n in range(LIMIT + 1)
    ]
    still = await client.post("/auth/token", data=form(user.email, user.password))

    assert no_current.status_code == new_email.status_code == 422
    assert [g.status_code for g in guesses] == [403] * LIMIT + [429]
    assert guesses[0].json()["code"] == "wrong_current_password"
    assert still.status_code in (200, 429), "the password is still the owner's"


async def test_registrations_are_limited_per_address(app):
    """Finding 4: one client made 528 accounts a minute, each an argon2 hash, and slowed real
    logins threefold. Registrations are now limited per client address (429 + Retry-After),
    and another address is not affected."""
    async with client_from(app, "203.0.113.7") as flooder, client_from(app, "203.0.113.8") as other:
        answers = [
            await flooder.post("/users", json={"email": f"f{n}@example.com", "password": "x" * 12})
            for n in range(LIMIT + 1)
        ]
        elsewhere = await other.post(
            "/users", json={"email": "other@example.com", "password": "x" * 12}
        )

    assert [a.status_code for a in answers] == [201] * LIMIT + [429]
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert elsewhere.status_code == 201


async def test_refreshes_are_limited_per_address(app, create_user, login):
    """Finding 5: one client refreshed 444 times a second, each leaving a 14-day Redis key.
    Refreshes are now limited per address (and a login is one key: test_final_login_store)."""
    tokens = await login(await create_user())
    refresh_token = tokens.refresh_token
    statuses = []
    async with client_from(app, "203.0.113.9") as looper:
        for _ in range(LIMIT + 1):
            answer = await looper.post("/auth/refresh", json={"refresh_token": refresh_token})
            statuses.append(answer.status_code)
            if answer.status_code == 200:
                refresh_token = answer.json()["refresh_token"]

    assert statuses == [200] * LIMIT + [429]


async def test_made_up_methods_do_not_grow_the_metrics(client):
    """Finding 6: every made-up HTTP method became a metric label: 2,000 requests grew
    /metrics tenfold. Unknown methods are counted as OTHER."""
    for n in range(20):
        await client.request(f"MADEUP{n}", "/users")

    samples = parse_metrics((await client.get("/metrics")).text)
    methods = {dict(labels).get("method") for _, labels in samples}

    assert not any(str(method).startswith("MADEUP") for method in methods), methods
    assert "OTHER" in methods


async def test_users_see_each_other_by_public_fields_only(client, create_user, login):
    """Finding 7: every user could list every account with its email and role. Listing is
    for admins (403), and another user reads as id and name only."""
    reader, other = await create_user(), await create_user(full_name="Other")
    headers = (await login(reader)).headers

    listing = await client.get("/users", headers=headers)
    read = await client.get(f"/users/{other.id}", headers=headers)

    assert listing.status_code == 403
    assert read.json() == {"id": str(other.id), "full_name": "Other"}


async def test_guesses_from_many_addresses_are_limited_per_account(app, create_user):
    """Finding 8: the login limit was per address only: 40 guesses on one account from four
    addresses met no 429. Failed guesses now count per account, from any address; the owner
    is locked out for at most the account window."""
    victim = await create_user()
    statuses = []
    for n in range(LIMIT + 1):
        async with client_from(app, f"198.51.100.{n + 1}") as attacker:
            answer = await attacker.post("/auth/token", data=form(victim.email, "wrong guess"))
            statuses.append(answer.status_code)
    async with client_from(app, "198.51.100.200") as owner:
        locked = await owner.post("/auth/token", data=form(victim.email, victim.password))

    window = app.state.settings.account_login_failure_window_seconds
    assert statuses == [401] * LIMIT + [429], statuses
    assert locked.status_code == 429
    assert 0 < int(locked.headers["Retry-After"]) <= window


async def test_a_correct_password_does_not_count_as_a_guess(client, create_user):
    """The per-account limit counts failures only: an owner logging in often is not locked."""
    owner = await create_user()

    statuses = [
        (await client.post("/auth/token", data=form(owner.email, owner.password))).status_code
        for _ in range(LIMIT + 2)
    ]

    assert 429 not in statuses[: LIMIT + 2], statuses


async def test_a_lone_surrogate_password_is_a_422(client, create_user, login):
    """Finding 9: a lone surrogate in a password was a 500 (argon2 cannot encode it), and the
    failing PATCH had already signed out the user's other logins first."""
    user = await create_user()
    mine, other = await login(user), await login(user)
    body = '{"email": "s@example.com", "password": "abc\\ud800defgh"}'
    change = '{"password": "abc\\ud800defgh", "current_password": "' + user.password + '"}'

    registered = await client.post(
        "/users", content=body, headers={"Content-Type": "application/json"}
    )
    patched = await client.patch(
        "/users/me", content=change, headers={**mine.headers, "Content-Type": "application/json"}
    )

    assert registered.status_code == 422, registered.text
    assert patched.status_code == 422, patched.text
    assert (await client.get("/users/me", headers=other.headers)).status_code == 200


@pytest.mark.parametrize("email", ["İlkay@example.com", "ΣΟΦΙΑ@example.com"])
async def test_addresses_whose_case_python_and_postgresql_fold_differently_log_in(client, email):
    """Finding 10: `İ` and `Σ` addresses registered but could not log in (Python's lower()
    and PostgreSQL's disagree). One form, compared by PostgreSQL on both sides."""
    registered = await client.post("/users", json={"email": email, "password": DEFAULT_PASSWORD})

    same = await client.post("/auth/token", data=form(email, DEFAULT_PASSWORD))
    shouting = await client.post(
        "/auth/token", data=form(email.replace("example.com", "EXAMPLE.COM"), DEFAULT_PASSWORD)
    )

    assert registered.status_code == 201, registered.text
    assert same.status_code == 200, same.text
    assert shouting.status_code == 200, shouting.text


async def test_production_hides_the_docs_and_the_metrics(
    database_url, redis_url, redis_namespace, database_schema
):
    """Findings 11 and 12: /docs, /redoc, /openapi.json and /metrics stayed public in
    production. They are off there unless API_DOCS_ENABLED or METRICS_TOKEN say so."""
    secret = "a-production-secret-key-that-is-long-enough-0123"
    production = make_settings(
        database_url, redis_url, redis_namespace, environment="production", secret_key=secret
    )
    token = "a-metrics-token-for-the-scraper"
    opened = production.model_copy(
        update={"api_docs_enabled": True, "metrics_token": production.secret_key.__class__(token)}
    )
    async with running_app(production) as app, client_for(app) as client:
        hidden = [(await client.get(p)).status_code for p in ("/docs", "/redoc", "/openapi.json")]
        metrics_hidden = (await client.get("/metrics")).status_code
    async with running_app(opened) as app, client_for(app) as client:
        shown = [(await client.get(p)).status_code for p in ("/docs", "/redoc", "/openapi.json")]
        without_token = await client.get("/metrics")
        with_token = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})

    assert hidden == [404, 404, 404]
    assert metrics_hidden == 404
    assert shown == [200, 200, 200]
    assert without_token.status_code == 401
    assert with_token.status_code == 200


async def test_token_answers_are_never_cached(client, create_user, login):
    """Finding 13: the token answers lacked `Cache-Control: no-store` (RFC 6749, 5.1), so a
    cache or a browser's history could keep a copy of the tokens."""
    user = await create_user()
    issued = await client.post("/auth/token", data=form(user.email, user.password))
    refreshed = await client.post(
        "/auth/refresh", json={"refresh_token": issued.json()["refresh_token"]}
    )

    for answer in (issued, refreshed):
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"] == "no-store"


async def test_headers_over_the_limit_are_a_431(client):
    """Finding 14: the 16 KiB header cap was per read, not per request: 100 kB of headers in
    one write were served. The app refuses a request line plus headers over the limit."""
    padded = {f"X-Padding-{n}": "x" * 1000 for n in range(20)}

    response = await client.get("/health/live", headers=padded)
    normal = await client.get("/health/live", headers={"X-Padding": "x" * 1000})

    assert response.status_code == 431
    assert response.headers["content-type"] == PROBLEM
    assert normal.status_code == 200


async def test_special_use_domains_are_refused_and_the_schema_says_so(client):
    """Finding 15: an address on a `.test` domain was refused although the schema only said
    `format: email`. The refusal stands (no mail is delivered there), and the schema says it."""
    response = await client.post(
        "/users", json={"email": "someone@host.test", "password": DEFAULT_PASSWORD}
    )
    schema = (await client.get("/openapi.json")).json()
    email = schema["components"]["schemas"]["UserCreate"]["properties"]["email"]

    assert response.status_code == 422
    assert "special-use" in response.json()["errors"][0]["message"]
    assert "special-use" in email["description"]
    assert ".test" in email["description"]
