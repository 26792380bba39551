"""Exercise database.pagination: a bounded page of users, chosen by PostgreSQL in a total
order, with the total."""

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


async def insert_rows(settings, values_sql: str) -> None:
    """Inserts users past the app, with SQL of the test's own."""
    engine = create_async_engine(settings.database_url, poolclass=NullPool)
    async with engine.begin() as connection:
        await connection.execute(text(f"INSERT INTO users (id, email, created_at) {values_sql}"))
    await engine.dispose()


async def walk(client, size: int, total: int) -> list[str]:
    """The ids met walking every page of `size`, from offset 0."""
    walked = []
    for offset in range(0, total, size):
        current = await page(client, limit=size, offset=offset)
        assert current["total"] == total, (
            f"Every page should carry the same total, {total}; the page at offset {offset} "
            f"says {current['total']}. Count every user in a query of its own {WHERE}."
        )
        walked += [user["id"] for user in current["items"]]
    return walked


async def test_a_page_has_its_items_the_total_and_the_defaults(client):
    await page(client)
    ids = await register_users(client, 3)

    first = await page(client)

    assert (first["limit"], first["offset"]) == (20, 0), (
        f"Without parameters the page should use limit=20 and offset=0 and say so; it says "
        f"limit={first['limit']}, offset={first['offset']} {WHERE}."
    )
    assert first["total"] == 3, (
        f"`total` should count every user (3 here); it is {first['total']} {WHERE}."
    )
    assert [user["id"] for user in first["items"]] == ids, (
        f"The items should be the users oldest first {WHERE}."
    )


async def test_walking_the_pages_meets_every_user_once_oldest_first(client, settings):
    await page(client)
    # Stored newest first: rows come back as they lie on disk unless the query orders them.
    await insert_rows(
        settings,
        "SELECT gen_random_uuid(), 'walk-' || n || '@example.com', "
        "timestamptz '2026-01-01' + n * interval '1 minute' "
        "FROM generate_series(25, 1, -1) AS n",
    )
    oldest_first = [user["id"] for user in (await page(client, limit=100))["items"]]
    emails = [user["email"] for user in (await page(client, limit=100))["items"]]

    walked = await walk(client, size=7, total=25)

    expected = [f"walk-{n}@example.com" for n in range(1, 26)]
    assert emails == expected, (
        f"Users stored on disk newest first should still be listed oldest first (by "
        f"created_at); the page lists {emails[:3]}... Without ORDER BY, PostgreSQL answers "
        f"rows in whatever order they lie on disk {WHERE}."
    )
    assert walked == oldest_first, (
        f"Pages of 7 at offsets 0, 7, 14 and 21 should meet each of the 25 users once, oldest "
        f"first; they gave {len(walked)} ids, {len(set(walked))} of them distinct {WHERE}."
    )


async def test_pages_agree_when_users_share_a_creation_time(client, settings):
    await page(client)
    # One transaction: now() is the same for every row, so created_at alone orders nothing.
    await insert_rows(
        settings,
        "SELECT gen_random_uuid(), 'twin-' || n || '@example.com', now() "
        "FROM generate_series(1, 25) AS n",
    )
    items = (await page(client, limit=100))["items"]
    everyone = [user["id"] for user in items]
    by_unique_column = [
        [user["id"] for user in sorted(items, key=lambda user: user[column])]
        for column in ("id", "email")
    ]

    walked = await walk(client, size=7, total=25)

    assert (walked == everyone, everyone in by_unique_column) == (True, True), (
        "25 users created in one transaction share created_at, and then neither the order on "
        "disk nor created_at decides theirs: pages of 7 may list them differently from one "
        "page of 100, so a client walking the pages meets some twice and misses others. Break "
        f"the tie with a unique column (the id) after created_at {WHERE}."
    )


async def test_postgresql_picks_the_page_not_python(client, settings, query_counter):
    await page(client)
    await insert_rows(
        settings,
        "SELECT gen_random_uuid(), 'many-' || n || '@example.com', now() "
        "FROM generate_series(1, 30) AS n",
    )
    query_counter.reset()

    await page(client, limit=5, offset=10)

    reads = [
        " ".join(statement.split())
        for statement in query_counter.statements
        if statement.lstrip().upper().startswith("SELECT")
    ]
    unbounded = [
        statement
        for statement in reads
        if "LIMIT" not in statement.upper() and "COUNT(" not in statement.upper()
    ]
    assert reads, f"GET /users sent no SELECT through the app's engine {WHERE}."
    assert not unbounded, (
        f"GET /users?limit=5&offset=10 read the users without a LIMIT: {unbounded[0][:120]}... "
        f"Loading the whole table and slicing it in Python costs every row on every request: "
        f"let the query take the page, with LIMIT and OFFSET, and count with COUNT {WHERE}."
    )


@pytest.mark.parametrize("limit", ["0", "101", "-1", "many"])
async def test_limit_is_bounded(client, limit):
    await page(client, limit=100)

    response = await client.get("/users", params={"limit": limit})

    assert response.status_code == 422, (
        f"GET /users?limit={limit} should answer 422: limit goes from 1 to 100, or one "
        f"request could ask for the whole table; it answered {response.status_code}. Give "
        f"the query parameter its bounds (ge, le) {WHERE}."
    )


@pytest.mark.parametrize("offset", ["-1", "10001"])
async def test_offset_is_bounded(client, offset):
    deepest = await page(client, offset=10_000)
    assert deepest["items"] == [], "A page past the last user is empty, not an error."

    response = await client.get("/users", params={"offset": offset})

    assert response.status_code == 422, (
        f"GET /users?offset={offset} should answer 422: offset goes from 0 to 10000 (each "
        f"skipped row costs a scan); it answered {response.status_code}. Give the query "
        f"parameter its bounds (ge, le) {WHERE}."
    )
