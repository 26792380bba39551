"""Exercise performance.query_count: a page of users costs two statements, whatever its length.

The users are inserted with creation times in another order than their insertion, so a page
read without ORDER BY comes back in the wrong order, as it would on a real table.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.users.models import Role, User

pytestmark = pytest.mark.exercise("performance.query_count")

WHERE = "(exercise performance.query_count: list_users in app/users/router.py and service.py)"
USERS = 30
PAGE = 10
MAX_STATEMENTS = 2  # the page's rows, and the total count
PLACEHOLDERS = re.compile(r"\((?:\$\d+(?:::\w+)?(?:, )?){2,}\)")  # IN ($1, $2, ...)
COLUMN_LIST = re.compile(r"^SELECT (?P<columns>.+?) FROM ")


async def add_users_created_out_of_order(app) -> None:
    """USERS users whose creation times are a shuffle of their insertion order."""
    started = datetime.now(UTC) - timedelta(days=1)
    async with app.state.resources.sessionmaker() as session:
        session.add_all(
            User(
                email=f"page-{number:02d}@example.com",
                full_name=f"User {number:02d}",
                hashed_password="never used",
                # 7 and 30 share no factor: every minute 0-29 once, in a shuffled order.
                created_at=started + timedelta(minutes=number * 7 % USERS),
            )
            for number in range(USERS)
        )
        await session.commit()


async def expected_page(app, *, limit: int, offset: int) -> list[tuple[str, str, str | None]]:
    """(id, email, full_name) of the page: oldest first, ties by id."""
    columns = select(User.id, User.email, User.full_name)
    page = columns.order_by(User.created_at, User.id).limit(limit).offset(offset)
    async with app.state.resources.sessionmaker() as session:
        return [(str(id_), email, name) for id_, email, name in await session.execute(page)]


def shortened(sql: str) -> str:
    """One line; a long column list and a list of placeholders said in a few words."""
    text = PLACEHOLDERS.sub(lambda found: f"({found[0].count('$')} values)", " ".join(sql.split()))
    columns = COLUMN_LIST.match(text)
    if columns and columns["columns"].count(",") >= 2:
        listed = columns["columns"].split(", ")
        text = f"SELECT {listed[0]}, ... ({len(listed)} columns) FROM {text[columns.end() :]}"
    return text


def sent_in_order(query_counter) -> str:
    """Every statement sent, in order, repeats of the same one run together: `12 x ...`."""
    runs: list[list] = []  # [times, text, pool]
    for statement in query_counter.sent:
        text = shortened(statement.sql)
        if runs and runs[-1][1:] == [text, statement.pool]:
            runs[-1][0] += 1
        else:
            runs.append([1, text, statement.pool])
    return " | ".join(
        f"[{index}] {times} x {text} (on the {pool})"
        for index, (times, text, pool) in enumerate(runs, start=1)
    )


async def read_a_page(app, client, create_user, login, query_counter, *, offset: int):
    await add_users_created_out_of_order(app)
    admin = await create_user(role=Role.ADMIN)  # only admins list users
    headers = (await login(admin)).headers
    # Every request reads its caller through the cache: warm it, so only the page is measured.
    assert (await client.get("/users/me", headers=headers)).status_code == 200
    expected = await expected_page(app, limit=PAGE, offset=offset)
    query_counter.reset()
    response = await client.get("/users", params={"limit": PAGE, "offset": offset}, headers=headers)
    return response, expected


def assert_cheap_and_right(response, expected, query_counter, *, offset: int) -> None:
    request = f"GET /users?limit={PAGE}&offset={offset}"
    assert response.status_code == 200, (
        f"{request} by an admin should answer 200 with a page; it answered "
        f"{response.status_code}: {response.text[:200]} {WHERE}"
    )
    assert query_counter.count <= MAX_STATEMENTS, (
        f"{request} sent {query_counter.count} SQL statements for one page; a page should "
        f"cost at most {MAX_STATEMENTS} (its rows, and the total), whatever its length {WHERE}.\n"
        f"Sent, in order: {sent_in_order(query_counter)}\n"
        f"Serve the app with LOG_SQL_QUERIES=true and list a page to watch the same."
    )
    rows = sum(max(statement.rows, 0) for statement in query_counter.sent)
    assert rows <= PAGE + 1, (
        f"PostgreSQL sent {rows} rows to answer a page of {PAGE} users (and its count): the "
        f"page is cut out of more rows in Python. Let the database apply the limit and the "
        f"offset, so a page costs the same on a table of millions {WHERE}.\n"
        f"Sent, in order: {sent_in_order(query_counter)}"
    )
    page = response.json()
    held = [(item["id"], item["email"], item.get("full_name")) for item in page["items"]]
    assert [email for _, email, _ in held] == [email for _, email, _ in expected], (
        f"{request} should hold users {offset + 1}-{offset + PAGE} by creation time, oldest "
        f"first (ties by id): {[email for _, email, _ in expected]}; it holds "
        f"{[email for _, email, _ in held]} (the test created them in a shuffled order, so "
        f"email order is not creation order). Without ORDER BY created_at, PostgreSQL returns "
        f"rows in whatever order it finds them, and pages overlap or skip users {WHERE}."
    )
    assert held == expected, (
        f"The page's users should carry their id, email and full_name as stored; got {held[:2]}"
    )
    counts = (page["total"], page["limit"], page["offset"])
    assert counts == (USERS + 1, PAGE, offset), (
        f"The page should say total={USERS + 1} (every user, the admin too), limit={PAGE}, "
        f"offset={offset}; it says total={counts[0]}, limit={counts[1]}, offset={counts[2]} "
        f"{WHERE}."
    )


async def test_the_first_page_costs_two_statements(app, client, create_user, login, query_counter):
    response, expected = await read_a_page(app, client, create_user, login, query_counter, offset=0)

    assert_cheap_and_right(response, expected, query_counter, offset=0)


async def test_a_later_page_is_as_cheap_and_as_right(
    app, client, create_user, login, query_counter
):
    response, expected = await read_a_page(
        app, client, create_user, login, query_counter, offset=PAGE
    )

    assert_cheap_and_right(response, expected, query_counter, offset=PAGE)
