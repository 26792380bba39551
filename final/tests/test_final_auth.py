"""Authentication: tokens, rotation, reuse detection, logout, and forged tokens."""

import base64
import hashlib
import hmac
import json
import time
from uuid import uuid4

import pytest
from final_helpers import client_for, make_settings, running_app

from app.auth import tokens as token_module
from app.auth.tokens import issue_token
from app.config import Settings


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
    hasher = app.state.password_hasher._password_hash
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
    assert access.json()["code"] == "token_revoked"
    assert refresh.status_code == 401


async def test_a_revocation_lives_as_long_as_the_token_would(client, create_user, login, app):
    settings: Settings = app.state.settings
    tokens = await login(await create_user())

    await client.post("/auth/logout", headers=tokens.headers)

    jti = claims_of(tokens.access_token)["jti"]
    ttl = await app.state.redis.ttl(f"{settings.redis_key_prefix}revoked:jti:{jti}")
    assert settings.access_token_ttl_seconds - 5 <= ttl <= settings.access_token_ttl_seconds


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
    "expired": lambda uid, key: forge(_claims(uid, exp=int(time.time()) - 10), key=key),
    "not yet valid": lambda uid, key: forge(_claims(uid, nbf=int(time.time()) + 600), key=key),
    "alg none": lambda uid, key: forge(_claims(uid), key=key, alg="none"),
    "another algorithm": lambda uid, key: forge(_claims(uid), key=key, alg="HS512"),
    "another key": lambda uid, key: forge(_claims(uid), key="another-key-" + "x" * 40),
    "no jti": lambda uid, key: forge(_claims(uid, jti=None), key=key),
    "no exp": lambda uid, key: forge(_claims(uid, exp=None), key=key),
    "unknown type": lambda uid, key: forge(_claims(uid, type="admin"), key=key),
    "subject not a uuid": lambda uid, key: forge(_claims("root"), key=key),
    "garbage": lambda uid, key: "not.a.jwt",
}


async def test_the_forging_helper_makes_tokens_the_service_accepts(client, create_user, app):
    user = await create_user()
    key = app.state.settings.secret_key.get_secret_value()

    response = await client.get(
        "/users/me", headers={"Authorization": f"Bearer {forge(_claims(str(user.id)), key=key)}"}
    )

    assert response.status_code == 200, "the control case: a correctly signed token works"


@pytest.mark.parametrize("forgery", FORGERIES)
async def test_forged_and_broken_tokens_are_401_problems(client, create_user, app, forgery):
    user = await create_user()
    key = app.state.settings.secret_key.get_secret_value()
    token = FORGERIES[forgery](str(user.id), key)

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
    token = issue_token(user_id=user.id, token_type="access", family="f", settings=other).token

    response = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401


async def test_revocation_fails_closed_when_redis_is_down(
    database_url, redis_namespace, database_schema
):
    dead_redis = make_settings(database_url, "redis://127.0.0.1:1/0", redis_namespace)
    async with running_app(dead_redis) as app, client_for(app) as client:
        await client.post("/users", json={"email": "a@example.com", "password": "password123"})
        login = await client.post(
            "/auth/token", data={"username": "a@example.com", "password": "password123"}
        )
        token = login.json()["access_token"]

        response = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})

    assert login.status_code == 200, "login does not need Redis: the rate limiter fails open"
    assert response.status_code == 503, "no revocation answer means no access (fail closed)"
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
