"""Exercise database.unique_email: one account per email, in any letter case, even when
registrations race. The database decides; the service turns its refusal into a 409."""

import asyncio
from collections import Counter
from contextlib import AsyncExitStack

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, ProgrammingError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.users import service
from app.users.exceptions import UserAlreadyExists
from app.users.models import User
from app.users.schemas import UserCreate, UserUpdate

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


def sessionmaker_of(app):
    sessionmaker = getattr(getattr(app.state, "resources", None), "sessionmaker", None)
    assert sessionmaker is not None, "Do exercise database.engine first: no sessionmaker yet."
    return sessionmaker


async def outcome_of(call) -> BaseException | None:
    """What the service call raised, or None."""
    try:
        await call
    except Exception as error:
        return error
    return None


async def test_after_a_refused_email_the_session_can_go_on(app):
    async with sessionmaker_of(app)() as session:
        first = await outcome_of(
            service.create_user(session, data=UserCreate(email="alice@example.com"))
        )
        assert first is None, (
            f"service.create_user should register alice@example.com; it raised {first!r}. "
            "Finish exercise database.crud first."
        )
        second = await outcome_of(
            service.create_user(session, data=UserCreate(email="Alice@example.com"))
        )
        assert isinstance(second, UserAlreadyExists), (
            f"service.create_user with a taken email should raise UserAlreadyExists; it "
            f"{'raised ' + repr(second) if second else 'returned'} {WHERE}."
        )
        try:
            await session.scalar(select(func.count()).select_from(User))
        except Exception as error:
            first_sentence = str(error).split(". ")[0].splitlines()[0]
            raise AssertionError(
                f"After UserAlreadyExists the session cannot be used any more: "
                f"{type(error).__name__}: {first_sentence}. The refused write left "
                f"its transaction failed, and a session in that state refuses everything until "
                f"it is rolled back. Roll the session back when you catch the IntegrityError, "
                f"before raising UserAlreadyExists, so whoever holds the session can go on "
                f"(app/users/service.py) {WHERE}."
            ) from None


@pytest.fixture
async def unique_full_names(settings):
    """A second unique index, on full_name, for one test: a refusal that is not the email's."""
    engine = create_async_engine(settings.database_url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("CREATE UNIQUE INDEX test_only_unique_full_name ON users (full_name)")
            )
    except ProgrammingError:  # no full_name column yet: the test says so
        await engine.dispose()
        yield False
        return
    try:
        yield True
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("DROP INDEX IF EXISTS test_only_unique_full_name"))
        await engine.dispose()


async def test_only_the_email_index_refusal_is_a_taken_email(app, unique_full_names):
    assert unique_full_names, "The users table has no full_name column: do database.model first."
    sessionmaker = sessionmaker_of(app)

    async def in_a_session(action, **arguments):
        async with sessionmaker() as session:
            return await outcome_of(getattr(service, action)(session, **arguments))

    first = await in_a_session(
        "create_user", data=UserCreate(email="ada@example.com", full_name="Ada Lovelace")
    )
    assert first is None, (
        f"service.create_user should register ada@example.com; it raised {first!r}. "
        "Finish exercise database.crud first."
    )
    async with sessionmaker() as session:
        grace = await service.create_user(
            session, data=UserCreate(email="grace@example.com", full_name="Grace Hopper")
        )
    refusals = {
        "create_user": await in_a_session(
            "create_user", data=UserCreate(email="other@example.com", full_name="Ada Lovelace")
        ),
        "update_user": await in_a_session(
            "update_user", user_id=grace.id, changes=UserUpdate(full_name="Ada Lovelace")
        ),
    }

    for action, raised in refusals.items():
        called_it_taken = (
            ": it calls this a taken email (a 409), which it is not"
            if isinstance(raised, UserAlreadyExists)
            else ""
        )
        assert isinstance(raised, IntegrityError), (
            f"Here the users table has a second unique index, on full_name (later chapters add "
            f"constraints of their own), and service.{action} wrote a taken full_name with a "
            f"free email. The database refused it with an IntegrityError from that other "
            f"index, and the service {'raised ' + repr(raised) if raised else 'returned'}"
            f"{called_it_taken}. Only the email index's refusal is UserAlreadyExists: compare "
            f"the refusing constraint's name (error.orig.__cause__.constraint_name) with the "
            f"email index's name, and re-raise every other IntegrityError as it is {WHERE}."
        )
