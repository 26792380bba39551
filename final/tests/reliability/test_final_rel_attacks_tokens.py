"""Attacks on the tokens. Each test states the attack and what the service must answer; the
long run lists them in final/RELIABILITY.md."""

import time
from uuid import uuid4

import pytest
from rel_forge import bearer, claims_of, forge, valid_claims, with_payload

PROBLEM = "application/problem+json"
ANOTHER_KEY = "an-attacker-key-that-is-long-enough-0123456789abcdef"


def assert_refused(response, code: str = "invalid_token") -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["code"] == code, response.json()


@pytest.fixture
def key(app) -> str:
    return app.state.settings.secret_key.get_secret_value()


@pytest.fixture
async def victim(create_user):
    return await create_user()


@pytest.fixture
async def victim_family(victim, login) -> str:
    """The family of one of the victim's live logins. A forged token naming it is refused
    for its forgery alone, never for naming a login that does not exist."""
    return claims_of((await login(victim)).access_token)["family"]


async def test_the_forging_helper_makes_tokens_the_service_accepts(
    client, victim, key, victim_family
):
    """Control: a token forged with the service's own key and algorithm is accepted, so the
    refusals below are caused by the attack, not by the forging."""
    token = forge(valid_claims(victim.id, family=victim_family), key=key)

    response = await client.get("/users/me", headers=bearer(token))

    assert response.status_code == 200


@pytest.mark.parametrize("spelling", ["none", "None", "NONE", "nOnE"])
async def test_alg_none_is_refused(client, victim, spelling, victim_family):
    """Attack: a token with `alg: none` and no signature, claiming to be the victim. The
    service must answer 401: it accepts HS256 and nothing else, whatever the header says."""
    token = forge(valid_claims(victim.id, family=victim_family), key="", alg=spelling)

    assert_refused(await client.get("/users/me", headers=bearer(token)))


async def test_a_token_signed_with_another_key_is_refused(client, victim, victim_family):
    """Attack: a well-formed HS256 token signed with the attacker's own key. 401."""
    token = forge(valid_claims(victim.id, family=victim_family), key=ANOTHER_KEY)

    assert_refused(await client.get("/users/me", headers=bearer(token)))


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
async def test_switching_to_another_hmac_algorithm_is_refused(
    client, victim, key, alg, victim_family
):
    """Attack: the right key but another algorithm in the header (and the signature). 401:
    the algorithm comes from the service's configuration, never from the token."""
    token = forge(valid_claims(victim.id, family=victim_family), key=key, alg=alg)

    assert_refused(await client.get("/users/me", headers=bearer(token)))


@pytest.mark.parametrize("alg", ["RS256", "ES256", "PS256"])
async def test_algorithm_confusion_with_the_secret_as_a_public_key_is_refused(
    client, victim, key, alg, victim_family
):
    """Attack: `alg` switched to an asymmetric algorithm and an HMAC signature made with the
    shared secret, hoping the verifier uses the secret as a public key. 401."""
    token = forge(valid_claims(victim.id, family=victim_family), key=key, alg=alg, digest="HS256")

    assert_refused(await client.get("/users/me", headers=bearer(token)))


@pytest.mark.parametrize(
    "header",
    [
        {"jku": "https://attacker.example/keys.json", "kid": "attacker"},
        {"jwk": {"kty": "oct", "k": "YXR0YWNrZXI"}},
        {"kid": "../../../../dev/null"},
        {"x5u": "https://attacker.example/cert.pem"},
    ],
    ids=["jku", "jwk", "kid path", "x5u"],
)
async def test_keys_named_in_the_token_header_are_ignored(client, victim, header, victim_family):
    """Attack: the header points the verifier at a key the attacker controls (jku, jwk, kid,
    x5u) and the token is signed with it. 401: keys come from the configuration only."""
    token = forge(
        valid_claims(victim.id, family=victim_family), key=ANOTHER_KEY, extra_header=header
    )

    assert_refused(await client.get("/users/me", headers=bearer(token)))


async def test_an_expired_token_is_refused(client, victim, key, victim_family):
    """Attack: replaying a token whose `exp` has passed (correctly signed). 401."""
    expired = int(time.time()) - 5
    token = forge(
        valid_claims(victim.id, family=victim_family, exp=expired, iat=expired - 600), key=key
    )

    assert_refused(await client.get("/users/me", headers=bearer(token)))


async def test_a_token_without_an_expiry_is_refused(client, victim, key, victim_family):
    """Attack: a correctly signed token with no `exp`, which would never expire. 401."""
    token = forge(valid_claims(victim.id, family=victim_family, exp=None), key=key)

    assert_refused(await client.get("/users/me", headers=bearer(token)))


async def test_a_token_not_yet_valid_is_refused(client, victim, key, victim_family):
    """Attack: a token whose `nbf` lies in the future (made to be used later). 401."""
    token = forge(
        valid_claims(victim.id, family=victim_family, nbf=int(time.time()) + 600), key=key
    )

    assert_refused(await client.get("/users/me", headers=bearer(token)))


async def test_a_refresh_token_does_not_open_the_api(client, victim, login):
    """Attack: using the long-lived refresh token as a bearer access token. 401."""
    tokens = await login(victim)

    assert_refused(await client.get("/users/me", headers=bearer(tokens.refresh_token)))


async def test_an_access_token_cannot_refresh(client, victim, login):
    """Attack: trading a stolen access token for a fresh pair at /auth/refresh. 401."""
    tokens = await login(victim)

    response = await client.post("/auth/refresh", json={"refresh_token": tokens.access_token})

    assert_refused(response)


async def test_a_logged_out_token_is_refused(client, victim, login):
    """Attack: reusing an access token and its refresh token after the user logged out.
    401 login_ended for both: logout ends the login, and every token of it with it."""
    tokens = await login(victim)
    assert (await client.post("/auth/logout", headers=tokens.headers)).status_code == 204

    assert_refused(await client.get("/users/me", headers=tokens.headers), "login_ended")
    refreshed = await client.post("/auth/refresh", json={"refresh_token": tokens.refresh_token})
    assert_refused(refreshed, "login_ended")


async def test_a_reused_refresh_token_revokes_the_whole_login(client, victim, login):
    """Attack: a thief replays a refresh token the victim already used. The replay gets 401
    refresh_token_reused, and every token of that login, the victim's new ones included,
    stops working: two parties held one token, so neither can be trusted."""
    tokens = await login(victim)
    rotated = await client.post("/auth/refresh", json={"refresh_token": tokens.refresh_token})
    assert rotated.status_code == 200

    replay = await client.post("/auth/refresh", json={"refresh_token": tokens.refresh_token})

    assert_refused(replay, "refresh_token_reused")
    new_access = rotated.json()["access_token"]
    assert_refused(await client.get("/users/me", headers=bearer(new_access)), "login_ended")


async def test_a_tampered_payload_is_refused(client, victim, login, create_user):
    """Attack: keeping a valid signature and changing the payload to become another user or
    to claim a role. 401: the signature covers the payload."""
    tokens = await login(victim)
    other = await create_user()
    claims = claims_of(tokens.access_token)

    as_other = with_payload(tokens.access_token, {**claims, "sub": str(other.id)})
    as_admin = with_payload(tokens.access_token, {**claims, "role": "admin"})

    assert_refused(await client.get("/users/me", headers=bearer(as_other)))
    assert_refused(await client.get("/users/me", headers=bearer(as_admin)))


async def test_a_role_claim_grants_nothing(client, victim, key, create_user, victim_family):
    """Attack: a correctly signed token (a leaked key is out of scope, but a future bug
    might sign what clients send) carrying `role: admin`. The role is read from the
    database, never from the token: the admin route answers 403."""
    target = await create_user()
    token = forge(valid_claims(victim.id, family=victim_family, role="admin"), key=key)

    response = await client.delete(f"/users/{target.id}", headers=bearer(token))

    assert response.status_code == 403
    assert response.json()["code"] == "admin_required"


async def test_a_deleted_users_token_is_refused(client, victim, login):
    """Attack: keep using the tokens of an account after it was deleted. 401 for both."""
    tokens = await login(victim)
    assert (await client.delete("/users/me", headers=tokens.headers)).status_code == 204

    assert_refused(await client.get("/users/me", headers=tokens.headers), "login_ended")
    refreshed = await client.post("/auth/refresh", json={"refresh_token": tokens.refresh_token})
    assert refreshed.status_code == 401


async def test_a_token_for_a_user_that_never_existed_is_refused(client, key, victim_family):
    """Attack: a correctly signed token for a random user id (on a live login: the worst
    case). 401, not a 404 or a 500."""
    token = forge(valid_claims(uuid4(), family=victim_family), key=key)

    assert_refused(await client.get("/users/me", headers=bearer(token)))


async def test_tokens_are_read_from_the_authorization_header_only(client, victim, login):
    """Attack: passing the token in the query string or a cookie, where it leaks into logs
    and can be sent cross-site. 401 not_authenticated: no other channel is read."""
    tokens = await login(victim)

    in_query = await client.get(f"/users/me?access_token={tokens.access_token}")
    in_cookie = await client.get(
        "/users/me", headers={"Cookie": f"access_token={tokens.access_token}"}
    )

    assert_refused(in_query, "not_authenticated")
    assert_refused(in_cookie, "not_authenticated")


async def test_a_huge_token_is_refused_cleanly(client, victim, key, victim_family):
    """Attack: a 60 kB token (a payload padded to make the verifier work). 431, before any
    verification: the request's headers are over the limit; a 6 kB one is simply a 401."""
    huge = forge(
        valid_claims(victim.id, family=victim_family, padding="x" * 60_000), key=ANOTHER_KEY
    )
    large = forge(
        valid_claims(victim.id, family=victim_family, padding="x" * 6_000), key=ANOTHER_KEY
    )

    response = await client.get("/users/me", headers=bearer(huge))

    assert response.status_code == 431, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "request_header_fields_too_large"
    assert_refused(await client.get("/users/me", headers=bearer(large)))
