"""Helpers the chapter's tests share: users and token pairs, logging in through the API, and
tokens made by hand. A module of its own (not conftest.py), so test files import it by name.
"""

import base64
import json
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest
from httpx import AsyncClient, Response
from jose import jwt

TEST_SECRET_KEY = "test-secret-key-long-enough-for-hs256-0123456789"
DEFAULT_PASSWORD = "correct horse battery staple"
LOGIN_EXERCISES = (
    "Logging in needs auth.passwords (app/security/passwords.py), auth.tokens "
    "(app/security/tokens.py) and auth.login (authenticate and start_login in "
    "app/auth/service.py, the login route in app/auth/router.py): finish those first."
)
CALLER_EXERCISE = (
    "Knowing the caller is exercise auth.current_user (get_current_login in "
    "app/users/dependencies.py): finish it first."
)


@dataclass(frozen=True)
class TestUser:
    id: UUID
    email: str
    password: str
    role: str = "user"


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.access_token)

    @property
    def family(self) -> str:
        """The login the pair belongs to (read without checking: only to look inside)."""
        return str(unverified_claims(self.access_token).get("family"))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def form(email: str, password: str) -> dict[str, str]:
    """OAuth2's password flow: a form, and the email travels as `username`."""
    return {"username": email, "password": password}


def tokens_from(response: Response, what: str, where: str = "") -> Tokens:
    """The pair in a 200 answer of /auth/token or /auth/refresh, or a failure that says why."""
    assert response.status_code == 200, (
        f"{what} should answer 200 with a token pair; it answered {response.status_code}: "
        f"{response.text}. {where}"
    )
    body = response.json()
    for name in ("access_token", "refresh_token"):
        token = body.get(name)
        looks_like_a_jwt = isinstance(token, str) and token.count(".") == 2
        assert looks_like_a_jwt, (
            f"{what} should return a JWT (three dot-separated parts) as {name!r}; got "
            f"{token!r}. Finish encode_token in app/security/tokens.py (exercise auth.tokens)."
        )
    return Tokens(access_token=body["access_token"], refresh_token=body["refresh_token"])


async def register(client: AsyncClient, *, password: str = DEFAULT_PASSWORD) -> TestUser:
    """A new user, registered through POST /users (for tests that run an app of their own)."""
    email = f"user-{uuid4().hex[:10]}@example.com"
    response = await client.post("/users", json={"email": email, "password": password})
    assert response.status_code == 201, (
        f"Registering through POST /users answered {response.status_code}: {response.text}"
    )
    return TestUser(id=UUID(response.json()["id"]), email=email, password=password)


async def log_in(client: AsyncClient, user: TestUser) -> Tokens:
    """Log in through POST /auth/token, for a test about something that comes after it."""
    response = await client.post("/auth/token", data=form(user.email, user.password))
    if response.status_code != 200:
        pytest.fail(
            f"This test logs in first, and POST /auth/token with the right password answered "
            f"{response.status_code}: {response.text}. {LOGIN_EXERCISES}"
        )
    return tokens_from(response, "POST /auth/token")


async def must_know_the_caller(client: AsyncClient, tokens: Tokens, user: TestUser) -> None:
    """GET /users/me answers the token's user, or the test stops here with the reason."""
    response = await client.get("/users/me", headers=tokens.headers)
    if response.status_code != 200 or response.json().get("id") != str(user.id):
        pytest.fail(
            f"This test needs a known caller first, and GET /users/me with a fresh access "
            f"token answered {response.status_code}: {response.text}. {CALLER_EXERCISE}"
        )


async def let_in_after_its_login_ended(client: AsyncClient, resources: Any, tokens: Tokens) -> None:
    """When a token that should be refused still works and its login's key is gone, the code
    that ended the login did its part: the test stops here and names the check that did not."""
    key = resources.logins.key(tokens.family)
    if await resources.redis.exists(key):
        return
    if (await client.get("/users/me", headers=tokens.headers)).status_code == 200:
        pytest.fail(
            f"The login's key ({key!r}) is gone, yet GET /users/me let the token in: "
            f"get_current_login must ask logins.is_alive (exercise auth.current_user)."
        )


# --- tokens made by hand, to see what the service refuses ------------------------------------


def claims_for(
    user_id: UUID, token_type: str = "access", *, family: str | None = None, **changes: Any
) -> dict[str, Any]:
    """Valid claims for a token of the user; `changes` replace them (None drops a claim)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": uuid4().hex,
        "type": token_type,
        "family": family or uuid4().hex,
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def _base64url(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def forge(claims: dict[str, Any], *, key: str = TEST_SECRET_KEY, alg: str = "HS256") -> str:
    """A token signed as asked; `alg="none"` makes an unsigned one by hand (jose will not)."""
    if alg == "none":
        return f"{_base64url({'alg': 'none', 'typ': 'JWT'})}.{_base64url(claims)}."
    return jwt.encode(claims, key, algorithm=alg)


def unverified_claims(token: str) -> dict[str, Any]:
    """What a token says, read without checking it (only to look inside, never to trust)."""
    try:
        return jwt.get_unverified_claims(token)
    except Exception:  # not a JWT: the assertion that uses the claims says what is wrong
        return {}


def tamper_with_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    # Change a character in the middle: the last one may only carry padding bits.
    middle = len(signature) // 2
    swapped = "A" if signature[middle] != "A" else "B"
    return f"{header}.{payload}.{signature[:middle]}{swapped}{signature[middle + 1 :]}"


def tamper_with_payload(token: str, **changes: Any) -> str:
    """The same header and signature over other claims: what an attacker would try."""
    header, _, signature = token.split(".")
    return f"{header}.{_base64url({**unverified_claims(token), **changes})}.{signature}"
