"""Worked section performance.token_cache: a token verified once is not verified again,
yet its expiry is checked on every use, and a token that failed is never kept.

The chapter gives this code (app/security/tokens.py): these tests pass before and after the
exercises.
"""

import time

import pytest

from app.security import tokens
from app.security.exceptions import InvalidToken


@pytest.fixture
def verifications(monkeypatch) -> list[str]:
    """Every token jose checks from now on, the verification cache emptied first."""
    checked: list[str] = []
    original = tokens.jwt.decode

    def counted_decode(token, *args, **kwargs):
        checked.append(token)
        return original(token, *args, **kwargs)

    tokens._verify.cache_clear()
    monkeypatch.setattr(tokens.jwt, "decode", counted_decode)
    return checked


async def test_a_token_is_verified_once_for_many_requests(
    client, create_user, login, verifications
):
    user = await create_user()
    access = (await login(user)).access_token
    verifications.clear()

    statuses = [
        (await client.get("/users/me", headers={"Authorization": f"Bearer {access}"})).status_code
        for _ in range(3)
    ]

    assert statuses == [200, 200, 200]
    assert verifications == [access], (
        f"three requests with one token should verify its signature once; jose checked "
        f"{len(verifications)} tokens"
    )


async def test_a_cached_token_is_refused_once_it_expired(
    settings, create_user, login, verifications, monkeypatch
):
    access = (await login(await create_user())).access_token
    claims = tokens.decode_token(access, expected_type="access", settings=settings)  # cached

    with monkeypatch.context() as later:
        later.setattr(time, "time", lambda: claims.exp + 1)  # the token's lifetime is over
        with pytest.raises(InvalidToken):
            tokens.decode_token(access, expected_type="access", settings=settings)

    assert verifications == [access], "the expired token was refused from the cache's claims"


def test_a_token_that_failed_is_checked_again_every_time(settings, verifications):
    forged = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJub2JvZHkifQ.bm90LWEtc2lnbmF0dXJl"

    for _ in range(2):
        with pytest.raises(InvalidToken):
            tokens.decode_token(forged, expected_type="access", settings=settings)

    assert verifications == [forged, forged], "a refused token must not be kept as verified"
