"""Exercise database.unique_email: one account per email, in any letter case, even when
registrations race. The database decides; the service turns its refusal into a 409."""

import asyncio
from collections import Counter
from contextlib import AsyncExitStack

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

pytestmark = pytest.mark.exercise("database.unique_email")

WHERE = "(exercise database.unique_email)"


@pytest.fixture
async def client(app):
    """Here an uncaught IntegrityError is answered 500, as a server would, so it is counted."""
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def register(client, email: str) -> int:
    response = await client.post("/users", json={"email": email})
    return response.status_code


async def registered(client, email: str) -> dict:
    response = await client.post("/users", json={"email": email})
    assert response.status_code == 201, (
        f"POST /users with a new email should answer 201; it answered {response.status_code}. "
        "Finish exercise database.crud first."
    )
    return response.json()


async def test_a_taken_email_is_409_in_any_letter_case(client, count_users):
    await registered(client, "alice@example.com")

    same = await register(client, "alice@example.com")
    shouted = await register(client, "ALICE@example.com")

    escaped = " (a 500: the IntegrityError escaped)" if same == 500 else ""
    assert same == 409, (
        f"Registering alice@example.com twice should answer 409 Conflict; the second answered "
        f"{same}{escaped}. Let the database refuse the row (a unique index, "
        f"app/users/models.py) and turn its IntegrityError into UserAlreadyExists in the "
        f"service (app/users/service.py); the router's context manager (exercise "
        f"database.crud) answers it with 409 {WHERE}."
    )
    assert shouted == 409, (
        f"ALICE@example.com is the same address as alice@example.com; registering it answered "
        f"{shouted}. A unique index on the column itself compares letter case; index the "
        f"lower-cased email instead {WHERE}."
    )
    assert await count_users() == 1, "A refused registration must not leave a row behind."


async def fill_the_pool(app) -> None:
    """Opens the pool's connections up front: racers that all find one ready start together."""
    async with AsyncExitStack() as held:
        resources = app.state.resources
        for _ in range(resources.settings.database_pool_size):
            await held.enter_async_context(resources.engine.connect())


async def test_twenty_registrations_that_race_make_one_user(app, client, count_users):
    await registered(client, "warm-up@example.com")
    await fill_the_pool(app)

    statuses = await asyncio.gather(*(register(client, "race@example.com") for _ in range(20)))

    assert sorted(statuses) == [201] + [409] * 19, (
        f"Twenty simultaneous registrations of one email should give one 201 and nineteen 409; "
        f"they gave {dict(Counter(statuses))} (a 500 is an IntegrityError nobody caught). "
        f"Checking first ('is it taken?') cannot work: "
        f"every request hears 'no' before any of them commits. Let the unique index refuse the "
        f"row and catch the IntegrityError {WHERE}."
    )
    assert await count_users() == 2, "The race should leave one row for race@example.com."


async def test_the_index_is_unique_on_lower_email_and_named_by_the_convention(settings):
    engine = create_async_engine(settings.database_url, poolclass=NullPool)
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'users'")
        )
        indexes = dict(rows.all())
    await engine.dispose()

    assert "ix_users_email" in indexes, (
        f"The users table should have an index named ix_users_email; it has "
        f"{sorted(indexes)}. Declare the index after the class and give it no name of its "
        f"own (None): the naming convention of app/database.py names it {WHERE}."
    )
    definition = indexes["ix_users_email"]
    assert ("UNIQUE" in definition, "lower(" in definition) == (True, True), (
        f"ix_users_email should be UNIQUE on lower(email); it is: {definition} {WHERE}."
    )


async def test_changing_to_a_taken_email_is_409_and_to_ones_own_is_fine(client):
    alice = await registered(client, "alice@example.com")
    bob = await registered(client, "bob@example.com")

    taken = await client.patch(f"/users/{bob['id']}", json={"email": "Alice@example.com"})
    bob_after = await client.get(f"/users/{bob['id']}")
    own = await client.patch(f"/users/{alice['id']}", json={"email": "ALICE@example.com"})

    assert taken.status_code == 409, (
        f"PATCH bob's email to Alice@example.com, which alice has, should answer 409; it "
        f"answered {taken.status_code}: nothing refused the change. The unique index refuses "
        f"it in the database, and update_user must turn that refusal into UserAlreadyExists "
        f"as create_user does {WHERE}."
    )
    assert bob_after.json()["email"] == "bob@example.com", (
        f"After the refused change bob should keep his email: roll the session back {WHERE}."
    )
    assert own.status_code == 200, (
        f"Alice changing the letter case of her own email should be fine (200); it answered "
        f"{own.status_code} {WHERE}."
    )
