"""The users API, pinned down: status codes, pagination, partial updates and duplicates.

Exercise testing.users: write each test below. Arrange with the fixtures (`create_user`,
`login`), act with one request, and assert exactly what the docstring promises.
"""

import pytest

pytestmark = pytest.mark.exercise("testing.users")


async def test_registering_answers_201_with_the_user_and_no_password():
    """POST /users answers 201 with the user (its email, no password of any kind) and a
    Location header naming the new user."""
    pytest.fail("TODO(testing.users): write this test in tests/test_users.py")


async def test_an_email_taken_in_another_letter_case_is_a_409():
    """A user exists with ada@example.com: registering ADA@Example.com answers 409."""
    pytest.fail("TODO(testing.users): write this test in tests/test_users.py")


async def test_pages_start_at_the_oldest_user_and_count_every_user():
    """An admin and four users, made one after another: GET /users (an admin's route) with
    limit=2 and offset=0 lists the two oldest, in order; offset=4 lists the fifth alone;
    `total` is 5 whatever the page."""
    pytest.fail("TODO(testing.users): write this test in tests/test_users.py")


async def test_patch_changes_only_the_fields_sent():
    """A user with a full name changes only its email (PATCH /users/me, with its
    current_password): the email changes, the full name stays."""
    pytest.fail("TODO(testing.users): write this test in tests/test_users.py")


async def test_deleting_your_account_answers_204_with_no_body():
    """A user deletes its own account (DELETE /users/me): 204 No Content, the body is empty."""
    pytest.fail("TODO(testing.users): write this test in tests/test_users.py")
