"""Exercise auth.admin: the role decides. Admins list users and change or delete anyone; a
user reads itself whole and any other user by its public fields only (id and name); a known
caller refused for its role gets 403, not 401."""

import pytest
from auth_helpers import must_know_the_caller

pytestmark = pytest.mark.exercise("auth.admin")

WHERE = (
    "See get_admin_user and get_requested_user in app/users/dependencies.py (exercise auth.admin)."
)


async def known(client, create_user, login, **user_fields):
    user = await create_user(**user_fields)
    tokens = await login(user)
    await must_know_the_caller(client, tokens, user)
    return user, tokens


async def test_only_admins_list_the_users(client, create_user, login):
    _, user_tokens = await known(client, create_user, login)
    _, admin_tokens = await known(client, create_user, login, role="admin")

    as_user = await client.get("/users", headers=user_tokens.headers)
    as_admin = await client.get("/users", headers=admin_tokens.headers)

    assert as_user.status_code == 403, (
        f"GET /users by a caller with the `user` role should answer 403 Forbidden (known, "
        f"but not allowed; a 401 would tell it to log in again); it answered "
        f"{as_user.status_code}. The list is for admins: it shows every email. {WHERE}"
    )
    assert as_admin.status_code == 200, (
        f"GET /users by an admin should answer 200; it answered {as_admin.status_code}: "
        f"{as_admin.text}. {WHERE}"
    )
    assert {item["role"] for item in as_admin.json()["items"]} == {"user", "admin"}


async def test_a_user_sees_others_by_their_public_fields_only(client, create_user, login):
    reader, tokens = await known(client, create_user, login)
    other = await create_user(full_name="Grace Hopper")

    someone_else = await client.get(f"/users/{other.id}", headers=tokens.headers)
    itself = await client.get(f"/users/{reader.id}", headers=tokens.headers)

    assert someone_else.status_code == 200, (
        f"Users may look each other up: GET /users/{{another id}} should answer 200; it "
        f"answered {someone_else.status_code}. {WHERE}"
    )
    assert someone_else.json() == {"id": str(other.id), "full_name": "Grace Hopper"}, (
        f"Another user's email and role are not the reader's to see: the answer should hold "
        f"the public fields only (UserPublic: id and full_name); it was {someone_else.json()}. "
        f"{WHERE}"
    )
    assert itself.json().get("email") == reader.email, (
        f"A user reading itself by id sees the whole account, email included; got "
        f"{itself.json()}. {WHERE}"
    )


async def test_an_admin_sees_anyone_whole(client, create_user, login):
    _, admin_tokens = await known(client, create_user, login, role="admin")
    other = await create_user()

    response = await client.get(f"/users/{other.id}", headers=admin_tokens.headers)

    assert response.json().get("email") == other.email, (
        f"An admin reading another user should see the whole account; got {response.json()}. "
        f"{WHERE}"
    )


async def test_users_cannot_change_or_delete_each_other(client, create_user, login):
    _, tokens = await known(client, create_user, login)
    victim = await create_user()

    changed = await client.patch(
        f"/users/{victim.id}", json={"full_name": "Owned"}, headers=tokens.headers
    )
    promoted = await client.patch(
        f"/users/{victim.id}", json={"role": "admin"}, headers=tokens.headers
    )
    deleted = await client.delete(f"/users/{victim.id}", headers=tokens.headers)

    answers = ((changed, "PATCH"), (promoted, "PATCH with a role"), (deleted, "DELETE"))
    for response, what in answers:
        assert response.status_code == 403, (
            f"{what} /users/{{someone else's id}} by a plain user should answer 403; it "
            f"answered {response.status_code}. The route asks for an AdminUser: let the role "
            f"decide in get_admin_user. {WHERE}"
        )


async def test_an_admin_promotes_a_user_who_then_acts_as_one(client, create_user, login):
    _, admin_tokens = await known(client, create_user, login, role="admin")
    user, user_tokens = await known(client, create_user, login)
    assert (await client.get("/users", headers=user_tokens.headers)).status_code == 403, (
        f"A plain user should not list the users (403). {WHERE}"
    )

    promoted = await client.patch(
        f"/users/{user.id}", json={"role": "admin"}, headers=admin_tokens.headers
    )
    listed = await client.get("/users", headers=user_tokens.headers)

    promoted_now = (promoted.status_code, promoted.json().get("role"))
    assert promoted_now == (200, "admin"), (
        f"An admin's PATCH /users/{{id}} with a role should answer 200 with the new role; it "
        f"answered {promoted.status_code}: {promoted.text}. {WHERE}"
    )
    assert listed.status_code == 200, (
        f"The role is read at every request, from the user the token names: once promoted, "
        f"the same token lists the users; it answered {listed.status_code}. Decide by the "
        f"current user's role, not by anything the token says. {WHERE}"
    )
