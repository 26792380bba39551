"""Authentication: tokens, rotation, reuse detection, logout, and forged tokens."""

import base64
import hashlib
import hmac
import json
import time
from uuid import uuid4

import pytest
from final_helpers import client_for, make_settings, running_app

from app.config import Settings
from app.security import tokens as token_module
from app.security.tokens import encode_token, new_claims


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def forge(claims: dict, *, key: str, alg: str = "HS256") -> str:
    """A JWT built by hand (no jose here), so a test can sign it any way it likes."""
    header = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    signing_input = f"{header}.{body}".encode()
    if alg == "none":
        return f"{header}.{body}."
    digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[alg]
    signature = hmac.new(key.encode(), signing_input, digest).digest()
    return f"{header}.{body}.{_b64(signature)}"


async def test_login_issues_an_access_and_a_refresh_token(client, create_user):
    user = await create_user()

    response = await client.post(
        "/auth/token", data={"username": user.email, "password": user.password}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    access, refresh = claims_of(body["access_token"]), claims_of(body["refresh_token"])
    for claims in (access, refresh):
        assert {"sub", "exp", "iat", "nbf", "jti", "type", "family"} <= claims.keys()
        assert claims["sub"] == str(user.id)
    assert (access["type"], refresh["type"]) == ("access", "refresh")
    assert access["jti"] != refresh["jti"]
    assert access["family"] == refresh["family"]
    assert body["expires_in"] == access["exp"] - access["iat"]


async def test_login_is_case_insensitive_on_the_email(client, create_user):
    user = await create_user(email="MiXeD@example.com")

    response = await client.post(
        "/auth/token", data={"username": "mixed@EXAMPLE.com", "password": user.password}
    )

    assert response.status_code == 200


async def test_wrong_password_and_unknown_email_look_the_same(client, create_user, app):
    user = await create_user()
    hasher = app.state.resources.password_hasher._password_hash
    verify_calls = []
    original_verify = hasher.verify

    def counting_verify(*args):
        verify_calls.append(args)
        return original_verify(*args)

    hasher.verify = counting_verify

    wrong = await client.post("/auth/token", data={"username": user.email, "password": "nope!"})
    unknown = await client.post(
        "/auth/token", data={"username": "nobody@example.com", "password": "nope!"}
    )

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert wrong.json()["code"] == unknown.json()["code"] == "invalid_credentials"
    # The unknown email still paid for one argon2 verify (against a dummy hash).
    assert len(verify_calls) == 1


async def test_refresh_rotates_the_pair(client, create_user, login):
    tokens = await login(await create_user())

    response = await client.post("/auth/refresh", json={"refresh_token": tokens.refresh_token})

    assert response.status_code == 200, response.text
    new = response.json()
    assert new["refresh_token"] != tokens.refresh_token
    assert claims_of(new["refresh_token"])["family"] == claims_of(tokens.refresh_token)["family"]
    me = await client.get("/users/me", headers={"Authorization": f"Bearer {new['access_token']}"})
    assert me.status_code == 200


async def test_a_reused_refresh_token_revokes_its_whole_family(client, create_user, login):
    tokens = await login(await create_user())
    first = await client.post("/auth/refresh", json={"refresh_token": tokens.refresh_token})
    rotated = first.json()

    reuse = await client.post("/auth/refresh", json={"refresh_token": tokens.refresh_token})
    newest = await client.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    access = await client.get(
        "/users/me", headers={"Authorization": f"Bearer {rotated['access_token']}"}
    )

    assert reuse.status_code == 401
    assert reuse.json()["code"] == "refresh_token_reused"
    assert newest.status_code == 401, "the rotated refresh token belongs to the revoked family"
    assert access.status_code == 401, "so does the access token issued with it"


async def test_another_login_is_not_revoked_with_the_family(client, create_user, login):
    user = await create_user()
    stolen, other_device = await login(user), await login(user)
    await client.post("/auth/refresh", json={"refresh_token": stolen.refresh_token})
    await client.post("/auth/refresh", json={"refresh_token": stolen.refresh_token})

    response = await client.get("/users/me", headers=other_device.headers)

    assert response.status_code == 200


async def test_logout_makes_both_tokens_useless(client, create_user, login, app, settings):
    tokens = await login(await create_user())

    response = await client.post("/auth/logout", headers=tokens.headers)
    access = await client.get("/users/me", headers=tokens.headers)
    refresh = await client.post("/auth/refresh", json={"refresh_token": tokens.refresh_token})

    assert response.status_code == 204
    assert access.status_code == 401
    assert access.json()["code"] == "login_ended"
    assert refresh.status_code == 401
    assert refresh.json()["code"] == "login_ended"


async def test_a_login_lives_as_long_as_its_refresh_token_and_no_longer(
    client, create_user, login, app
):
    """One key per login, whose TTL is the refresh token's life, renewed at each refresh and
    deleted at logout: Redis never keeps a login nobody can use."""
    settings: Settings = app.state.settings
    redis = app.state.resources.redis
    tokens = await login(await create_user())
    key = app.state.resources.logins.key(claims_of(tokens.access_token)["family"])
    ttl_after_login = await redis.ttl(key)
    await redis.expire(key, 60)  # as if most of the login's life had passed

    refreshed = await client.post("/auth/refresh", json={"refresh_token": tokens.refresh_token})
    ttl_after_refresh = await redis.ttl(key)
    await client.post(
        "/auth/logout", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    )

    lifetime = settings.refresh_token_ttl_seconds
    assert lifetime - 5 <= ttl_after_login <= lifetime
    assert lifetime - 5 <= ttl_after_refresh <= lifetime, "a refresh renews the login's life"
    assert not await redis.exists(key), "a logout removes the login"


async def test_token_types_are_not_interchangeable(client, create_user, login):
    tokens = await login(await create_user())

    as_access = await client.get(
        "/users/me", headers={"Authorization": f"Bearer {tokens.refresh_token}"}
    )
    as_refresh = await client.post("/auth/refresh", json={"refresh_token": tokens.access_token})

    assert as_access.status_code == 401
    assert as_refresh.status_code == 401


def _claims(user_id: str, **changes: object) -> dict:
    now = int(time.time())
    claims = {
        "sub": user_id,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": uuid4().hex,
        "type": "access",
        "family": uuid4().hex,
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


FORGERIES = {
    "expired": lambda uid, f, key: forge(
        _claims(uid, family=f, exp=int(time.time()) - 10), key=key
    ),
    "not yet valid": lambda uid, f, key: forge(
        _claims(uid, family=f, nbf=int(time.time()) + 600), key=key
    ),
    "alg none": lambda uid, f, key: forge(_claims(uid, family=f), key=key, alg="none"),
    "another algorithm": lambda uid, f, key: forge(_claims(uid, family=f), key=key, alg="HS512"),
    "another key": lambda uid, f, key: forge(_claims(uid, family=f), key="another-key-" + "x" * 40),
    "no jti": lambda uid, f, key: forge(_claims(uid, family=f, jti=None), key=key),
    "no exp": lambda uid, f, key: forge(_claims(uid, family=f, exp=None), key=key),
    "unknown type": lambda uid, f, key: forge(_claims(uid, family=f, type="admin"), key=key),
    "subject not a uuid": lambda uid, f, key: forge(_claims("root", family=f), key=key),
    "garbage": lambda uid, f, key: "not.a.jwt",
}


@pytest.fixture
async def live_family(create_user, login) -> tuple[str, str]:
    """A user id and the family of one of its live logins: a forged token naming them is
    refused for its forgery alone, never for an unknown login."""
    user = await create_user()
    tokens = await login(user)
    return str(user.id), claims_of(tokens.access_token)["family"]


async def test_the_forging_helper_makes_tokens_the_service_accepts(client, app, live_family):
    user_id, family = live_family
    key = app.state.settings.secret_key.get_secret_value()
    token = forge(_claims(user_id, family=family), key=key)

    response = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200, "the control case: a correctly signed token works"


@pytest.mark.parametrize("forgery", FORGERIES)
async def test_forged_and_broken_tokens_are_401_problems(client, app, live_family, forgery):
    user_id, family = live_family
    key = app.state.settings.secret_key.get_secret_value()
    token = FORGERIES[forgery](user_id, family, key)

    response = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401, forgery
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_tampered_payload_is_refused(client, create_user, login):
    tokens = await login(await create_user())
    header, _, signature = tokens.access_token.split(".")
    claims = claims_of(tokens.access_token) | {"sub": str(uuid4())}
    tampered = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"

    response = await client.get("/users/me", headers={"Authorization": f"Bearer {tampered}"})

    assert response.status_code == 401


async def test_a_token_signed_by_another_deployment_is_refused(client, create_user, settings):
    user = await create_user()
    other = settings.model_copy(update={"secret_key": settings.secret_key.__class__("z" * 48)})
    token = encode_token(
        new_claims(user_id=user.id, token_type="access", family="f", settings=other), other
    )

    response = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401


async def test_logins_and_tokens_fail_closed_when_redis_is_down(
    database_url, redis_namespace, database_schema
):
    """Without Redis no login can be registered or checked: 503, never a token that works
    while nobody can revoke it, and never "logged in" on a guess."""
    dead_redis = make_settings(database_url, "redis://127.0.0.1:1/0", redis_namespace)
    async with running_app(dead_redis) as app, client_for(app) as client:
        created = await client.post(
            "/users", json={"email": "a@example.com", "password": "password123"}
        )
        login = await client.post(
            "/auth/token", data={"username": "a@example.com", "password": "password123"}
        )
        claims = new_claims(
            user_id=created.json()["id"], token_type="access", family="f", settings=dead_redis
        )
        token = encode_token(claims, dead_redis)
        response = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})

    assert created.status_code == 201, "registration needs PostgreSQL only (limits fail open)"
    assert login.status_code == 503, "a login that cannot be registered is not given"
    assert login.json()["code"] == "auth_unavailable"
    assert response.status_code == 503, "no answer about the login means no access"
    assert response.json()["code"] == "auth_unavailable"


async def test_a_token_verified_earlier_is_refused_once_it_expires(
    client, create_user, login, monkeypatch
):
    tokens = await login(await create_user())
    assert (await client.get("/users/me", headers=tokens.headers)).status_code == 200
    expiry = claims_of(tokens.access_token)["exp"]

    # The verified claims are cached; the clock moving past `exp` must still count.
    monkeypatch.setattr(token_module.time, "time", lambda: expiry + 1)
    response = await client.get("/users/me", headers=tokens.headers)

    assert response.status_code == 401
