"""Exercise database.pagination: a bounded page of users, in a stable order, with the total."""

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

pytestmark = pytest.mark.exercise("database.pagination")

WHERE = "(app/users/router.py and app/users/service.py, exercise database.pagination)"
PAGE_FIELDS = {"items", "total", "limit", "offset"}


async def page(client, **params) -> dict:
    response = await client.get("/users", params=params)
    assert response.status_code == 200, (
        f"GET /users with {params or 'no parameters'} should answer 200 with a page of users; "
        f"it answered {response.status_code} {response.text[:200]}. Write the route and "
        f"service.list_users {WHERE}."
    )
    body = response.json()
    shape = sorted(body) if isinstance(body, dict) else type(body).__name__
    assert shape == sorted(PAGE_FIELDS), (
        f"A page should be a UserPage, with exactly {sorted(PAGE_FIELDS)}; got {shape} {WHERE}."
    )
    return body


async def register_users(client, count: int) -> list[str]:
    """Registers `count` users one after the other; their ids, oldest first."""
    ids = []
    for number in range(count):
        response = await client.post("/users", json={"email": f"page-{number}@example.com"})
        assert response.status_code == 201, (
            f"POST /users should answer 201 before pages can be tested; it answered "
            f"{response.status_code}. Finish exercise database.crud first."
        )
        ids.append(response.json()["id"])
    return ids


async def test_a_page_has_its_items_the_total_and_the_defaults(client):
    await page(client)
    ids = await register_users(client, 3)

    first = await page(client)

    assert (first["limit"], first["offset"]) == (20, 0), (
        f"Without parameters the page should use limit=20 and offset=0 and say so; it says "
        f"limit={first['limit']}, offset={first['offset']} {WHERE}."
    )
    assert first["total"] == 3, (
        f"`total` should count every user (3 here); it is {first['total']}. Count them with "
        f"select(func.count()).select_from(User) {WHERE}."
    )
    assert [user["id"] for user in first["items"]] == ids, (
        f"The items should be the users oldest first (order by created_at, then id) {WHERE}."
    )


async def test_walking_the_pages_meets_every_user_once_in_order(client):
    await page(client)
    ids = await register_users(client, 25)

    walked, offset = [], 0
    while offset < 25:
        current = await page(client, limit=7, offset=offset)
        assert current["total"] == 25, "Every page should carry the same total."
        walked += [user["id"] for user in current["items"]]
        offset += 7

    assert walked == ids, (
        f"Pages of 7 at offsets 0, 7, 14 and 21 should meet each of the 25 users once, oldest "
        f"first; they gave {len(walked)} ids, {len(set(walked))} of them distinct. Apply "
        f".limit(limit).offset(offset) to a query ordered by created_at {WHERE}."
    )


async def test_pages_agree_when_users_share_a_creation_time(client, settings):
    await page(client)
    # One transaction: now() is the same for every row, so created_at alone orders nothing.
    engine = create_async_engine(settings.database_url, poolclass=NullPool)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO users (id, email) SELECT gen_random_uuid(), "
                "'twin-' || n || '@example.com' FROM generate_series(1, 25) AS n"
            )
        )
    await engine.dispose()

    everyone = [user["id"] for user in (await page(client, limit=100))["items"]]
    walked = []
    for offset in range(0, 25, 7):
        walked += [user["id"] for user in (await page(client, limit=7, offset=offset))["items"]]

    assert walked == everyone, (
        "25 users created in one transaction share created_at; pages of 7 then list them "
        "differently from one page of 100, so a client walking the pages would meet some "
        "twice and miss others. Break the tie with a unique column: "
        f".order_by(User.created_at, User.id) {WHERE}."
    )


@pytest.mark.parametrize("limit", ["0", "101", "-1", "many"])
async def test_limit_is_bounded(client, limit):
    await page(client, limit=100)

    response = await client.get("/users", params={"limit": limit})

    assert response.status_code == 422, (
        f"GET /users?limit={limit} should answer 422: limit goes from 1 to 100, or one "
        f"request could ask for the whole table; it answered {response.status_code}. Declare "
        f"it as Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] {WHERE}."
    )


@pytest.mark.parametrize("offset", ["-1", "10001"])
async def test_offset_is_bounded(client, offset):
    deepest = await page(client, offset=10_000)
    assert deepest["items"] == [], "A page past the last user is empty, not an error."

    response = await client.get("/users", params={"offset": offset})

    assert response.status_code == 422, (
        f"GET /users?offset={offset} should answer 422: offset goes from 0 to 10000 (each "
        f"skipped row costs a scan); it answered {response.status_code}. Declare it as "
        f"Annotated[int, Query(ge=0, le=MAX_OFFSET)] {WHERE}."
    )
