"""Exercise database.crud: register, read, change and delete users. The service speaks the
domain (UserNotFound); the router turns it into HTTP (404), in one place."""

from datetime import datetime
from uuid import uuid4

import pytest

from app.users import service
from app.users.exceptions import UserNotFound

pytestmark = pytest.mark.exercise("database.crud")

WHERE = "(app/users/router.py and app/users/service.py, exercise database.crud)"
USER_FIELDS = {"id", "email", "full_name", "created_at", "updated_at"}


async def register(client, **body) -> dict:
    response = await client.post("/users", json=body)
    assert response.status_code == 201, (
        f"POST /users with {body} should answer 201 Created with the new user; it answered "
        f"{response.status_code} {response.text[:200]}. Write the route and "
        f"service.create_user {WHERE}."
    )
    return response.json()


async def test_a_registration_is_committed(client, count_users):
    raised: Exception | None = None
    try:
        response = await client.post("/users", json={"email": "kept@example.com"})
        answer = f"answered {response.status_code}"
        missing_route = response.status_code in (404, 405)
    except Exception as error:  # the app's own error: say what it was, then why
        raised = error
        answer = f"failed with {type(error).__name__}: {str(error).splitlines()[0]}"
        missing_route = False
    rows = await count_users()

    unwritten = missing_route or isinstance(raised, NotImplementedError)
    assert not unwritten, (
        f"POST /users {answer}: write the registration route and service.create_user {WHERE}."
    )
    assert rows == 1, (
        f"POST /users {answer}, and the users table is still empty: nothing was committed. "
        f"session.add() only stages the user in the session; `await session.commit()` sends "
        f"the INSERT and keeps it (it also gives the user the id and the timestamps the answer "
        f"needs). A session closed without a commit throws its work away {WHERE}."
    )


async def test_the_articles_registration_answers_201_with_the_user(client):
    response = await client.post("/users/", json={"email": "test@example.com"})

    assert response.status_code == 201, (
        f'POST /users/ with {{"email": "test@example.com"}} should answer 201 Created; it '
        f"answered {response.status_code} {response.text[:200]}. Write the registration "
        f'route (POST "", status 201; the trailing slash is taken care of) and '
        f"service.create_user {WHERE}."
    )
    user = response.json()
    assert set(user) == USER_FIELDS, (
        f"The new user should be answered as exactly {sorted(USER_FIELDS)} (a UserRead); "
        f"got {sorted(user)} {WHERE}."
    )
    assert (user["email"], user["full_name"]) == ("test@example.com", None), (
        f"The new user should carry the email it was registered with and no full_name; got "
        f"{user['email']!r} and {user['full_name']!r}. Make the User from the UserCreate {WHERE}."
    )
    assert response.headers.get("location") == f"/users/{user['id']}", (
        f"A 201 should say where the new resource lives: Location: /users/{user['id']}; "
        f"got {response.headers.get('location')!r} {WHERE}."
    )
    other = await register(client, email="other@example.com", full_name="Ada Lovelace")
    assert other["full_name"] == "Ada Lovelace", (
        f"A user registered with full_name 'Ada Lovelace' should keep it; got "
        f"{other['full_name']!r}. Make the User from every field of the UserCreate {WHERE}."
    )
    assert other["id"] != user["id"], "Every user should get an id of its own."


async def test_a_user_is_read_by_id_and_a_missing_one_is_404(client):
    user = await register(client, email="read@example.com", full_name="Grace Hopper")
    nobody = uuid4()

    found = await client.get(f"/users/{user['id']}")
    missing = await client.get(f"/users/{nobody}")
    not_an_id = await client.get("/users/not-a-uuid")

    assert (found.status_code, found.json()) == (200, user), (
        f"GET /users/{{id}} should answer 200 with the user as it was registered; it "
        f"answered {found.status_code} {found.text[:200]}. Write the route and "
        f"service.get_user {WHERE}."
    )
    assert missing.status_code == 404, (
        f"GET /users/{{id}} for an id nobody has should answer 404; it answered "
        f"{missing.status_code} {missing.text[:200]}. The service raises UserNotFound; the "
        f"router's context manager turns it into a 404 {WHERE}."
    )
    assert str(nobody) in missing.json().get("detail", ""), (
        f"The 404 should carry UserNotFound's own message, which names the id; its detail is "
        f"{missing.json().get('detail')!r}. Pass str(error) as the HTTPException's detail "
        f"{WHERE}."
    )
    assert not_an_id.status_code == 404, (
        f"GET /users/not-a-uuid names no user: it should answer 404 like any unknown path; it "
        f"answered {not_an_id.status_code}. Let the route's path match UUIDs only (Starlette's "
        f"`uuid` path convertor) {WHERE}."
    )


async def test_the_service_raises_domain_exceptions_not_http_ones(app):
    sessionmaker = getattr(getattr(app.state, "resources", None), "sessionmaker", None)
    assert sessionmaker is not None, "Do exercise database.engine first: no sessionmaker yet."
    raised: BaseException | None = None
    async with sessionmaker() as session:
        try:
            await service.get_user(session, user_id=uuid4())
        except Exception as error:
            raised = error

    assert isinstance(raised, UserNotFound), (
        f"service.get_user for a missing id should raise UserNotFound "
        f"(app/users/exceptions.py); it {'raised ' + repr(raised) if raised else 'returned'}. "
        f"The service knows nothing of HTTP: the router decides that UserNotFound is a 404 "
        f"{WHERE}."
    )


async def test_patch_changes_only_the_fields_sent(client):
    user = await register(client, email="patch@example.com", full_name="Ada Lovelace")

    renamed = await client.patch(f"/users/{user['id']}", json={"email": "ada@example.com"})
    assert renamed.status_code == 200, (
        f"PATCH /users/{{id}} should answer 200 with the changed user; it answered "
        f"{renamed.status_code} {renamed.text[:200]}. Write the route and "
        f"service.update_user {WHERE}."
    )
    assert renamed.json()["email"] == "ada@example.com", (
        f"PATCH with a new email should change it; the answer says {renamed.json()['email']!r}. "
        f"Apply each field sent, commit, and answer the changed user {WHERE}."
    )
    assert renamed.json()["full_name"] == "Ada Lovelace", (
        "PATCH with only an email must keep the full_name: change only the fields the client "
        f"sent (model_dump's exclude_unset) {WHERE}."
    )
    assert datetime.fromisoformat(renamed.json()["updated_at"]) > datetime.fromisoformat(
        user["updated_at"]
    ), "updated_at should move forward on every change (onupdate on the model)."

    cleared = await client.patch(f"/users/{user['id']}", json={"full_name": None})
    assert (cleared.status_code, cleared.json().get("full_name")) == (200, None), (
        f'PATCH with {{"full_name": null}} should clear the name; got {cleared.text[:200]}.'
    )
    assert cleared.json()["email"] == "ada@example.com", "Clearing the name kept the email."

    stored = await client.get(f"/users/{user['id']}")
    assert stored.json() == cleared.json(), "The change should be committed, not only answered."


async def test_patch_refuses_a_null_email_and_a_missing_user(client):
    user = await register(client, email="null@example.com")

    null_email = await client.patch(f"/users/{user['id']}", json={"email": None})
    missing = await client.patch(f"/users/{uuid4()}", json={"full_name": "Nobody"})

    assert missing.status_code == 404, (
        f"PATCH /users/{{id}} for a missing user should answer 404; it answered "
        f"{missing.status_code} {WHERE}."
    )
    assert null_email.status_code == 422, (
        f'PATCH with {{"email": null}} should answer 422 (UserUpdate refuses it); it answered '
        f"{null_email.status_code}. Take the body as a UserUpdate {WHERE}."
    )


async def test_delete_answers_204_then_the_user_is_gone(client):
    user = await register(client, email="delete@example.com")

    deleted = await client.delete(f"/users/{user['id']}")
    after = await client.get(f"/users/{user['id']}")
    again = await client.delete(f"/users/{user['id']}")

    assert (deleted.status_code, deleted.content) == (204, b""), (
        f"DELETE /users/{{id}} should answer 204 No Content with an empty body; it answered "
        f"{deleted.status_code} {deleted.content[:100]!r}. Write the route and "
        f"service.delete_user {WHERE}."
    )
    assert after.status_code == 404, (
        f"After the DELETE answered {deleted.status_code}, GET /users/{{id}} still finds the "
        f"user ({after.status_code}): the delete was not committed. Commit in "
        f"service.delete_user {WHERE}."
    )
    assert again.status_code == 404, (
        f"Deleting a user that does not exist should answer 404; it answered "
        f"{again.status_code} {WHERE}."
    )


async def test_unknown_and_invalid_fields_are_refused(client):
    await register(client, email="valid@example.com")

    with_id = await client.post("/users", json={"email": "id@example.com", "id": str(uuid4())})
    bad_email = await client.post("/users", json={"email": "not-an-email"})
    user = await register(client, email="fields@example.com")
    patched = await client.patch(f"/users/{user['id']}", json={"is_admin": True})

    assert (with_id.status_code, bad_email.status_code, patched.status_code) == (422, 422, 422), (
        f"An unknown field (id, is_admin) or an invalid email should answer 422; POST with an id "
        f"answered {with_id.status_code}, POST with a bad email {bad_email.status_code}, PATCH "
        f"with is_admin {patched.status_code}. Take the bodies as UserCreate and UserUpdate "
        f"{WHERE}."
    )
