"""The fixture checks of chapter 06 (exercise `testing.fixtures`).

`workshop check 06` copies this module beside the learner's tests (as PROBE_FILE, in
workshop/checkers/testing.py) and runs it against the correct service: each check uses the
learner's fixtures by their names and says, when one misbehaves, what to fix in
tests/conftest.py. The module is not collected anywhere else.
"""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

pytestmark = pytest.mark.exercise("testing.fixtures")

WHERE = "(tests/conftest.py, exercise testing.fixtures)"
# The two isolation checks run in this order: the first leaves traces, the second looks.
_first_test_prefix: list[str] = []


async def _count_users(app: Any, *, email: str | None = None) -> int:
    from app.users.models import User

    query = select(func.count()).select_from(User)
    if email is not None:
        query = query.where(User.email == email)
    async with _resources(app).sessionmaker() as session:
        count: int = await session.scalar(query)
        return count


def _resources(app: Any) -> Any:
    # The learner's app, imported in the learner's tree: its types are not this package's.
    from app.resources import resources_of

    return resources_of(app)


async def test_the_app_fixture_runs_the_lifespan(app: Any) -> None:
    assert hasattr(getattr(app, "state", None), "resources"), (
        f"The `app` fixture yields an app whose lifespan never ran, so resources_of(app) has "
        f"no engine, Redis or password hasher to give. Build it with create_app(settings) and "
        f"yield it inside `async with LifespanManager(app)` {WHERE}."
    )


async def test_the_app_is_built_from_the_settings_fixture(
    app: Any, settings: Any, database_url: Any, redis_namespace: Any
) -> None:
    assert _resources(app).settings is settings, (
        f"The `app` fixture should build the app from the `settings` fixture: "
        f"create_app(settings) {WHERE}."
    )
    assert settings.database_url == database_url, (
        f"settings.database_url should be the plugin's `database_url` fixture (this session's "
        f"own database), not {settings.database_url!r} {WHERE}."
    )
    prefix = settings.redis_key_prefix
    under_the_namespace = prefix.startswith(redis_namespace) and prefix != redis_namespace
    assert under_the_namespace, (
        f"settings.redis_key_prefix should be a new prefix under the plugin's `redis_namespace` "
        f'for every test, such as f"{{redis_namespace}}{{uuid4().hex[:8]}}:"; it is '
        f"{prefix!r} {WHERE}."
    )


async def test_the_client_sends_requests_to_the_app(client: Any, app: Any) -> None:
    assert isinstance(client, httpx.AsyncClient), (
        f"The `client` fixture should yield an httpx.AsyncClient, not {type(client).__name__} "
        f"{WHERE}."
    )
    response = await client.post(
        "/users", json={"email": "probe@example.com", "password": "correct horse"}
    )
    assert response.status_code == 201, (
        f"POST /users through the `client` fixture answered {response.status_code}: the client "
        f"should send requests to the `app` fixture's app, with "
        f'AsyncClient(transport=ASGITransport(app=app), base_url="http://test") {WHERE}.'
    )
    assert await _count_users(app, email="probe@example.com") == 1, (
        f"A user registered through `client` is not in the database of the `app` fixture: the "
        f"client must talk to that same app {WHERE}."
    )


async def test_each_test_starts_with_empty_tables(app: Any, client: Any, settings: Any) -> None:
    assert await _count_users(app) == 0, (
        f"The users table is not empty when a test starts: the `app` fixture should empty "
        f"every table (TRUNCATE) before yielding, so tests never see each other's rows {WHERE}."
    )
    response = await client.post(
        "/users", json={"email": "first@example.com", "password": "correct horse"}
    )
    assert response.status_code == 201, response.text
    _first_test_prefix.append(settings.redis_key_prefix)


async def test_each_test_has_its_own_rows_and_redis_prefix(app: Any, settings: Any) -> None:
    assert await _count_users(app) == 0, (
        f"The previous test's user is still in the database: the `app` fixture should empty "
        f"every table (TRUNCATE) before yielding {WHERE}."
    )
    assert settings.redis_key_prefix not in _first_test_prefix, (
        f"Two tests got the same Redis prefix {settings.redis_key_prefix!r}: make a new one in "
        f'the `settings` fixture for every test, such as f"{{redis_namespace}}'
        f'{{uuid4().hex[:8]}}:" {WHERE}.'
    )


async def test_create_user_saves_a_user_who_can_log_in(create_user: Any, client: Any) -> None:
    account = await create_user(email="factory@example.com", full_name="Grace Hopper")
    other = await create_user()

    assert (account.email, account.full_name) == ("factory@example.com", "Grace Hopper"), (
        f"create_user(email=..., full_name=...) should save a user with that email and name "
        f"and return them; it returned {account!r} {WHERE}."
    )
    assert other.email != account.email, (
        f"Two calls of create_user() should make two users with different emails {WHERE}."
    )
    response = await client.post(
        "/auth/token", data={"username": account.email, "password": account.password}
    )
    assert response.status_code != 429, (
        f"Logging in with the user create_user returned answered 429 Too Many Requests: the "
        f"login rate limit counted other tests' logins. Its counters live in Redis under "
        f"settings.redis_key_prefix, so the `settings` fixture must make a new prefix for "
        f'every test, such as f"{{redis_namespace}}{{uuid4().hex[:8]}}:" {WHERE}.'
    )
    assert response.status_code == 200, (
        f"Logging in with the email and password create_user returned answered "
        f"{response.status_code}: the factory should save the user through "
        f"app.users.service.create_user with resources_of(app).password_hasher {WHERE}."
    )


async def test_create_user_makes_a_new_user_on_every_call(create_user: Any) -> None:
    try:
        first = await create_user()
        second = await create_user()
    except Exception as error:  # a fixed default email: the second call is a duplicate
        pytest.fail(
            f"Calling create_user() twice without an email failed on the second call "
            f"({type(error).__name__}: {error}): the factory should make a new email for every "
            f"call that passes none (uuid4() gives a new value each time). Until it does, every "
            f"test of yours that makes two users fails with it {WHERE}."
        )
    assert (first.id, first.email) != (second.id, second.email), (
        f"create_user() called twice without an email returned the same user {first.email!r} "
        f"twice: every call should save a new user with an email of its own {WHERE}."
    )


async def test_create_user_makes_an_admin_when_asked(create_user: Any, client: Any) -> None:
    from app.users.models import Role

    admin = await create_user(role=Role.ADMIN)
    tokens = await client.post(
        "/auth/token", data={"username": admin.email, "password": admin.password}
    )
    assert tokens.status_code == 200, tokens.text
    bearer = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
    response = await client.get("/users", headers=bearer)
    assert response.status_code == 200, (
        f"GET /users (an admin's route) answered {response.status_code} to a user made by "
        f"create_user(role=Role.ADMIN): after saving the user, set its role in the database "
        f"(an UPDATE of the row, then commit) {WHERE}."
    )


@pytest.fixture
def apps_to_look_at_afterwards() -> Iterator[list[Any]]:
    """Set up before `app`, so torn down after it and after `override_dependency`: what the
    test's app still replaces once every fixture of the learner's has finished."""
    apps: list[Any] = []
    yield apps
    for app in apps:
        left = [
            getattr(dependency, "__name__", repr(dependency))
            for dependency in app.dependency_overrides
        ]
        assert not left, (
            f"When the test was over, {', '.join(left)} was still replaced in "
            f"app.dependency_overrides: after its yield, `override_dependency` should undo every "
            f"replacement the test made {WHERE}."
        )


class ProbeError(Exception):
    """Raised by the replacement dependency: the route reached it."""


async def test_override_dependency_replaces_a_dependency(
    client: Any, override_dependency: Any
) -> None:
    from app.dependencies import get_password_hasher

    async def broken_password_hasher() -> None:
        raise ProbeError

    override_dependency(get_password_hasher, broken_password_hasher)
    try:
        response = await client.post(
            "/users", json={"email": "override@example.com", "password": "correct horse"}
        )
    except ProbeError:
        return  # the replacement ran, and the client re-raised what it raised
    assert response.status_code == 500, (
        f"override_dependency(get_password_hasher, replacement) did not replace it: POST /users "
        f"answered {response.status_code} without calling the replacement. Put the replacement "
        f"in app.dependency_overrides[dependency] {WHERE}."
    )


async def test_override_dependency_undoes_its_replacements_when_the_test_ends(
    apps_to_look_at_afterwards: list[Any], app: Any, override_dependency: Any
) -> None:
    from app.dependencies import get_password_hasher

    apps_to_look_at_afterwards.append(app)
    override_dependency(get_password_hasher, lambda: None)
