"""Users: registration, reads, pages, your own account, and what only admins may do."""

import asyncio
from uuid import uuid4

from sqlalchemy import text

from app.users.models import Role

NEW_USER = {"email": "grace@example.com", "password": "a long enough password"}


async def test_register_answers_201_with_the_user_and_its_location(client):
    response = await client.post("/users", json={**NEW_USER, "full_name": "Grace Hopper"})

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "grace@example.com"
    assert body["full_name"] == "Grace Hopper"
    assert body["role"] == "user"
    assert response.headers["Location"] == f"/users/{body['id']}"


async def test_register_with_a_trailing_slash_is_not_redirected(client):
    # The article's clients call POST /users/ : it must work as is, not answer 307.
    response = await client.post("/users/", json=NEW_USER)

    assert response.status_code == 201, response.text


async def test_the_password_and_its_hash_never_leave_the_service(client, create_user, login):
    response = await client.post("/users", json=NEW_USER)
    user = await create_user()
    tokens = await login(user)
    admin_tokens = await login(await create_user(role=Role.ADMIN))

    own = await client.get("/users/me", headers=tokens.headers)
    other = await client.get(f"/users/{response.json()['id']}", headers=tokens.headers)
    as_admin = await client.get(f"/users/{response.json()['id']}", headers=admin_tokens.headers)
    page = await client.get("/users", headers=admin_tokens.headers)

    assert page.status_code == 200, page.text
    for body in (response.text, own.text, other.text, as_admin.text, page.text):
        assert "password" not in body
        assert "argon2" not in body


async def test_email_is_unique_whatever_its_case(client):
    first = await client.post("/users", json=NEW_USER)
    second = await client.post("/users", json={**NEW_USER, "email": "GRACE@Example.COM"})

    assert first.status_code == 201
    assert second.status_code == 409
    assert second.headers["content-type"] == "application/problem+json"
    assert second.json()["code"] == "user_already_exists"


async def test_twenty_racing_registrations_of_one_email_create_one_user(client, app):
    # One address, half of the requests spelling it in capitals.
    variants = ["RACE@EXAMPLE.COM" if i % 2 else "race@example.com" for i in range(20)]

    responses = await asyncio.gather(
        *(client.post("/users", json={**NEW_USER, "email": email}) for email in variants)
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * 19, statuses
    async with app.state.resources.engine.connect() as connection:
        count = await connection.scalar(text("SELECT count(*) FROM users"))
    assert count == 1


async def test_registration_cannot_choose_a_role(client):
    response = await client.post("/users", json={**NEW_USER, "role": "admin"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.role"


async def test_read_a_user_needs_a_token(client, create_user):
    user = await create_user()

    response = await client.get(f"/users/{user.id}")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_read_another_user_by_its_public_fields(client, create_user, login):
    reader, target = await create_user(), await create_user(full_name="Target")
    tokens = await login(reader)

    response = await client.get(f"/users/{target.id}", headers=tokens.headers)

    assert response.status_code == 200
    assert response.json() == {"id": str(target.id), "full_name": "Target"}, (
        "another user's email and role are not a normal user's business"
    )


async def test_yourself_and_admins_read_a_user_whole(client, create_user, login):
    target = await create_user(full_name="Target")
    own_tokens = await login(target)
    admin_tokens = await login(await create_user(role=Role.ADMIN))

    own = await client.get(f"/users/{target.id}", headers=own_tokens.headers)
    as_admin = await client.get(f"/users/{target.id}", headers=admin_tokens.headers)

    for response in (own, as_admin):
        assert response.status_code == 200
        assert response.json()["email"] == target.email
        assert response.json()["role"] == "user"


async def test_only_admins_list_users(client, create_user, login):
    tokens = await login(await create_user())

    response = await client.get("/users", headers=tokens.headers)

    assert response.status_code == 403
    assert response.json()["code"] == "admin_required"


async def test_an_unknown_user_is_a_404_problem(client, create_user, login):
    tokens = await login(await create_user())

    response = await client.get(f"/users/{uuid4()}", headers=tokens.headers)

    assert response.status_code == 404
    assert response.json()["code"] == "user_not_found"


async def test_list_users_pages_with_a_total(client, create_user, login):
    users = [await create_user(role=Role.ADMIN)] + [await create_user() for _ in range(4)]
    tokens = await login(users[0])

    first = await client.get("/users?limit=2&offset=0", headers=tokens.headers)
    last = await client.get("/users?limit=2&offset=4", headers=tokens.headers)

    assert first.status_code == 200
    assert first.json()["total"] == 5
    assert [user["id"] for user in first.json()["items"]] == [str(u.id) for u in users[:2]]
    assert len(last.json()["items"]) == 1
    assert last.json()["limit"] == 2
    assert last.json()["offset"] == 4


async def test_list_users_bounds_limit_and_offset(client, create_user, login):
    tokens = await login(await create_user(role=Role.ADMIN))

    for query in ("limit=0", "limit=101", "offset=-1", "offset=10001", "limit=abc"):
        response = await client.get(f"/users?{query}", headers=tokens.headers)
        assert response.status_code == 422, query


async def test_me_reads_changes_and_deletes_your_own_account(client, create_user, login):
    user = await create_user()
    tokens = await login(user)

    me = await client.get("/users/me", headers=tokens.headers)
    changed = await client.patch(
        "/users/me", json={"full_name": "New Name"}, headers=tokens.headers
    )
    deleted = await client.delete("/users/me", headers=tokens.headers)
    after = await client.get("/users/me", headers=tokens.headers)

    assert me.json()["id"] == str(user.id)
    assert changed.status_code == 200
    assert changed.json()["full_name"] == "New Name"
    assert changed.json()["updated_at"] >= me.json()["updated_at"]
    assert deleted.status_code == 204
    assert after.status_code == 401, "a deleted user's token must stop working"


async def test_changing_your_password_lets_you_log_in_with_the_new_one(client, create_user, login):
    user = await create_user()
    tokens = await login(user)

    response = await client.patch(
        "/users/me",
        json={"password": "a brand new passphrase", "current_password": user.password},
        headers=tokens.headers,
    )
    old = await client.post("/auth/token", data={"username": user.email, "password": user.password})
    new = await client.post(
        "/auth/token", data={"username": user.email, "password": "a brand new passphrase"}
    )

    assert response.status_code == 200
    assert old.status_code == 401
    assert new.status_code == 200


async def test_a_user_cannot_make_itself_admin(client, create_user, login):
    user = await create_user()
    tokens = await login(user)

    response = await client.patch("/users/me", json={"role": "admin"}, headers=tokens.headers)
    me = await client.get("/users/me", headers=tokens.headers)

    assert response.status_code == 422
    assert me.json()["role"] == "user"


async def test_changing_email_to_a_taken_one_is_a_409(client, create_user, login):
    taken = await create_user(email="taken@example.com")
    user = await create_user()
    tokens = await login(user)

    response = await client.patch(
        "/users/me",
        json={"email": taken.email.upper(), "current_password": user.password},
        headers=tokens.headers,
    )

    assert response.status_code == 409


async def test_null_for_a_required_field_is_a_422(client, create_user, login):
    tokens = await login(await create_user())

    response = await client.patch("/users/me", json={"email": None}, headers=tokens.headers)

    assert response.status_code == 422


async def test_only_admins_may_change_or_delete_others(client, create_user, login):
    user, other = await create_user(), await create_user()
    tokens = await login(user)

    patched = await client.patch(
        f"/users/{other.id}", json={"full_name": "Hacked"}, headers=tokens.headers
    )
    deleted = await client.delete(f"/users/{other.id}", headers=tokens.headers)

    assert patched.status_code == 403
    assert deleted.status_code == 403
    assert patched.json()["code"] == "admin_required"


async def test_an_admin_may_change_roles_and_delete_users(client, create_user, login):
    admin = await create_user(role=Role.ADMIN)
    other = await create_user()
    tokens = await login(admin)

    promoted = await client.patch(
        f"/users/{other.id}", json={"role": "admin"}, headers=tokens.headers
    )
    deleted = await client.delete(f"/users/{other.id}", headers=tokens.headers)
    gone = await client.get(f"/users/{other.id}", headers=tokens.headers)
    missing = await client.delete(f"/users/{other.id}", headers=tokens.headers)

    assert promoted.status_code == 200
    assert promoted.json()["role"] == "admin"
    assert deleted.status_code == 204
    assert gone.status_code == 404
    assert missing.status_code == 404


async def test_a_page_of_users_costs_two_queries_whatever_its_size(
    client, create_user, login, query_counter
):
    users = [await create_user(role=Role.ADMIN)] + [await create_user() for _ in range(29)]
    tokens = await login(users[0])
    await client.get("/users/me", headers=tokens.headers)  # the caller is cached now
    query_counter.reset()

    response = await client.get("/users?limit=30", headers=tokens.headers)

    assert len(response.json()["items"]) == 30
    assert query_counter.count == 2, query_counter.statements  # the page and the count
