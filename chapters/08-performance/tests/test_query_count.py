"""Exercise performance.query_count: a page of users costs two queries, not one per user."""

from collections import Counter

import pytest
from sqlalchemy import select

from app.users.models import User

pytestmark = pytest.mark.exercise("performance.query_count")

WHERE = "(exercise performance.query_count: app/users/router.py and app/users/service.py)"
USERS = 30
PAGE = 25
MAX_STATEMENTS = 2  # the page's rows, and the total count


async def expected_page(app, *, limit: int, offset: int) -> list[tuple[str, str, str | None]]:
    """What the page must hold: (id, email, full_name) of users oldest first, ties by id."""
    columns = select(User.id, User.email, User.full_name)
    page = columns.order_by(User.created_at, User.id).limit(limit).offset(offset)
    async with app.state.sessionmaker() as session:
        return [(str(id_), email, name) for id_, email, name in await session.execute(page)]


def most_repeated(statements: list[str]) -> str:
    """One line per distinct statement, with how often it was sent: an N+1 shows at the top."""
    lines = []
    for statement, times in Counter(" ".join(text.split()) for text in statements).most_common():
        if len(statement) > 110:  # keep the start and the WHERE clause at the end
            statement = f"{statement[:50]} ... {statement[-55:]}"
        lines.append(f"{times} x {statement}")
    return "\n  ".join(lines)


def items_of(page: dict) -> list[tuple[str, str, str | None]]:
    return [(item["id"], item["email"], item["full_name"]) for item in page["items"]]


async def test_a_page_of_users_costs_two_queries_on_a_cold_cache(
    app, client, create_user, login, query_counter
):
    users = [await create_user() for _ in range(USERS)]
    headers = (await login(users[0])).headers
    # Every request reads its caller through the cache: warm it, so only the page is measured.
    assert (await client.get("/users/me", headers=headers)).status_code == 200
    expected = await expected_page(app, limit=PAGE, offset=0)
    query_counter.reset()

    response = await client.get("/users", params={"limit": PAGE}, headers=headers)
    statements = list(query_counter.statements)

    assert response.status_code == 200, (
        f"GET /users should still answer 200 with a page; it answered {response.status_code}: "
        f"{response.text[:200]} {WHERE}"
    )
    assert len(statements) <= MAX_STATEMENTS, (
        f"GET /users?limit={PAGE} on a cold cache sent {len(statements)} SQL statements; a page "
        f"should cost at most {MAX_STATEMENTS}, one for the page's rows and one for the total: "
        f"load the page's users in one query {WHERE}.\n"
        f"What it sent, most repeated first (serve the app with LOG_SQL_QUERIES=true to watch "
        f"one request):\n  {most_repeated(statements)}"
    )
    page = response.json()
    assert items_of(page) == expected, (
        f"The page should still hold the first {PAGE} users, oldest first (ties by id), each "
        f"with its id, email and full_name; it holds other users, another order or other "
        f"values {WHERE}."
    )
    assert page["total"] == USERS, f"The page's total should be {USERS}; got {page['total']}."


async def test_the_next_page_is_as_cheap_and_as_right(
    app, client, create_user, login, query_counter
):
    users = [await create_user() for _ in range(USERS)]
    headers = (await login(users[0])).headers
    assert (await client.get("/users/me", headers=headers)).status_code == 200
    expected = await expected_page(app, limit=PAGE, offset=PAGE)
    query_counter.reset()

    response = await client.get("/users", params={"limit": PAGE, "offset": PAGE}, headers=headers)

    assert response.status_code == 200, (
        f"GET /users should still answer 200 with a page; it answered {response.status_code}: "
        f"{response.text[:200]} {WHERE}"
    )
    assert query_counter.count <= MAX_STATEMENTS, (
        f"GET /users?limit={PAGE}&offset={PAGE} sent {query_counter.count} SQL statements; "
        f"a page should cost at most {MAX_STATEMENTS}, whatever its offset {WHERE}."
    )
    page = response.json()
    assert items_of(page) == expected, (
        f"The second page should hold users {PAGE + 1} to {USERS}, oldest first {WHERE}."
    )
    assert (page["total"], page["limit"], page["offset"]) == (USERS, PAGE, PAGE)
