"""Authentication: tokens that must stop working, and tokens that must never work.

Exercise testing.auth: write each test below with `client`, `create_user` and `login`
(`tokens.access_token`, `tokens.refresh_token`, `tokens.headers`).
"""

import pytest

pytestmark = pytest.mark.exercise("testing.auth")


async def test_a_logged_out_access_token_stops_working():
    """Log in, log out (POST /auth/logout with the refresh token, 204), then GET /users/me
    with the same access token: 401."""
    pytest.fail("TODO(testing.auth): write this test in tests/test_auth.py")


async def test_a_refresh_token_works_once():
    """POST /auth/refresh twice with one refresh token: 200, then 401."""
    pytest.fail("TODO(testing.auth): write this test in tests/test_auth.py")


async def test_a_refresh_token_is_not_an_access_token():
    """GET /users/me with the refresh token as the bearer token: 401."""
    pytest.fail("TODO(testing.auth): write this test in tests/test_auth.py")


async def test_a_token_signed_with_another_key_is_refused():
    """Take a real access token's claims (jose.jwt.get_unverified_claims), sign them with
    another key (jose.jwt.encode, HS256): GET /users/me with that forgery answers 401."""
    pytest.fail("TODO(testing.auth): write this test in tests/test_auth.py")


async def test_users_cannot_change_or_delete_other_users():
    """Mallory PATCHes and DELETEs Ada's account: 403 both times."""
    pytest.fail("TODO(testing.auth): write this test in tests/test_auth.py")
