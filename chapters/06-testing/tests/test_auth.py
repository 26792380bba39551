"""Authentication: tokens that must stop working, and tokens that must never work.

Exercise testing.auth: write each test below. Security tests assert refusals; prove the
happy path first, so that a 401 means what you think.
"""

import pytest

pytestmark = pytest.mark.exercise("testing.auth")


async def test_a_logged_out_access_token_stops_working():
    """Log in, log out (POST /auth/logout with the access token, 204), then GET /users/me
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
    """Mallory (no admin) PATCHes and DELETEs Ada's account at /users/{id}: 403 both times,
    and Ada's account is as it was."""
    pytest.fail("TODO(testing.auth): write this test in tests/test_auth.py")


async def test_a_new_password_needs_the_current_one():
    """PATCH /users/me with a new password and no current_password: 422, and the old
    password still logs in (a stolen access token alone must not take the account over)."""
    pytest.fail("TODO(testing.auth): write this test in tests/test_auth.py")


async def test_a_new_password_signs_out_the_other_logins():
    """Log in twice (a phone and a laptop); change the password from the laptop, with the
    current one: the phone's access token answers 401, the laptop's still works."""
    pytest.fail("TODO(testing.auth): write this test in tests/test_auth.py")
