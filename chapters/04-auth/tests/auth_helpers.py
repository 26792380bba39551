"""Helpers the chapter's tests share: token pairs out of answers, and tokens made by hand.

A module of its own (not conftest.py) so that test files can import it by name.
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


@dataclass(frozen=True)
class TestUser:
    id: UUID
    email: str
    password: str


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.access_token)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


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
            f"{token!r}. Finish issue_token in app/auth/tokens.py (exercise auth.tokens)."
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
    response = await client.post(
        "/auth/token", data={"username": user.email, "password": user.password}
    )
    if response.status_code != 200:
        pytest.fail(
            f"This test logs in first, and POST /auth/token with the right password answered "
            f"{response.status_code}: {response.text}. Logging in needs auth.passwords "
            "(app/auth/passwords.py) and auth.login (authenticate in app/auth/service.py, the "
            "route in app/auth/router.py): finish those first."
        )
    return tokens_from(response, "POST /auth/token")


# --- tokens made by hand, to see what the service refuses ------------------------------------


def claims_for(user_id: UUID, token_type: str = "access", **changes: Any) -> dict[str, Any]:
    """Valid claims for a token of the user; `changes` replace them (None drops a claim)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "iat": now,
        "exp": now + 600,
        "jti": uuid4().hex,
        "type": token_type,
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
    return jwt.get_unverified_claims(token)


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
