"""Exercise errors.domain_exceptions: services raise domain errors, one handler answers them."""

import ast
import inspect
from uuid import uuid4

import pytest

import app.users.router
import app.users.service
from app.users import service
from app.users.exceptions import UserNotFound
from app.users.schemas import UserUpdate

pytestmark = pytest.mark.exercise("errors.domain_exceptions")

WHERE = "(exercise errors.domain_exceptions)"
HANDLER = f"Register handle_domain_error for DomainError in app/problems.py {WHERE}."
RAISE = (
    "Raise the domain exception where the failure happens (the service, the cache), let the "
    "route just call it, and let handle_domain_error, registered for DomainError in "
    f"app/problems.py, answer {WHERE}."
)


def problem_of(response, *, status: int, code: str) -> dict:
    what = f"{response.request.method} {response.request.url.path}"
    content_type = response.headers.get("content-type", "")
    is_problem = content_type.startswith("application/problem+json")
    assert response.status_code == status, (
        f"{what} should answer {status} with code {code!r}; it answered "
        f"{response.status_code}: {response.text[:200]}. {RAISE}"
    )
    assert is_problem, (
        f"{what} should answer a {status} problem (application/problem+json) with code "
        f"{code!r}; it answered {response.status_code} {content_type!r}: "
        f"{response.text[:200]}. {RAISE}"
    )
    body = response.json()
    assert body.get("code") == code, (
        f"{what} should answer code {code!r}, the exception's own; got {body.get('code')!r}. "
        f"{RAISE}"
    )
    assert body.get("detail"), f"The problem needs the exception's detail; got {body}."
    assert body.get("request_id"), f"The problem needs the request id; got {body}."
    return body


async def test_an_unknown_user_is_a_404_user_not_found(client, create_user, login):
    tokens = await login(await create_user())

    response = await client.get(f"/users/{uuid4()}", headers=tokens.headers)

    problem_of(response, status=404, code="user_not_found")


async def test_a_taken_email_is_a_409_user_already_exists(client):
    user = {"email": "grace@example.com", "password": "s3cret-pw"}
    first = await client.post("/users/", json=user)
    second = await client.post("/users", json=user | {"email": "GRACE@example.com"})

    assert first.status_code == 201, first.text
    problem_of(second, status=409, code="user_already_exists")


async def test_a_wrong_password_is_a_401_invalid_credentials(client, create_user):
    user = await create_user()

    response = await client.post(
        "/auth/token", data={"username": user.email, "password": "not-the-password"}
    )

    problem_of(response, status=401, code="invalid_credentials")
    assert response.headers.get("www-authenticate") == "Bearer", (
        f"A 401 must carry WWW-Authenticate: Bearer: pass error.headers on. {HANDLER}"
    )


async def test_a_forged_token_is_a_401_invalid_token(client):
    response = await client.get("/users/me", headers={"Authorization": "Bearer not.a.jwt"})

    problem_of(response, status=401, code="invalid_token")
    assert response.headers.get("www-authenticate") == "Bearer", (
        f"A 401 must carry WWW-Authenticate: Bearer: pass error.headers on. {HANDLER}"
    )


async def test_changing_another_account_is_a_403_not_account_owner(client, create_user, login):
    tokens = await login(await create_user())
    someone_else = await create_user()

    response = await client.patch(
        f"/users/{someone_else.id}", json={"full_name": "Mallory"}, headers=tokens.headers
    )

    problem_of(response, status=403, code="not_account_owner")


async def test_too_many_logins_are_a_429_with_retry_after(app_with):
    async with app_with(login_rate_limit=2) as (_, client):
        form = {"username": "nobody@example.com", "password": "guessing"}
        responses = [await client.post("/auth/token", data=form) for _ in range(3)]

    problem_of(responses[-1], status=429, code="too_many_requests")
    retry_after = responses[-1].headers.get("retry-after", "")
    assert retry_after.isdigit(), (
        f"A 429 must say when to come back in Retry-After (seconds); got {retry_after!r}. "
        f"Pass error.headers on. {HANDLER}"
    )


async def test_the_service_and_the_cache_raise_user_not_found(app):
    missing = uuid4()
    outcomes = {}
    async with app.state.sessionmaker() as session:
        calls = {
            "service.update_user": lambda: service.update_user(
                session,
                user_id=missing,
                changes=UserUpdate(full_name="Nobody"),
                password_hasher=app.state.password_hasher,
                cache=app.state.user_cache,
            ),
            "service.delete_user": lambda: service.delete_user(
                session, user_id=missing, cache=app.state.user_cache
            ),
            "UserCache.get_user": lambda: app.state.user_cache.get_user(missing),
        }
        for name, call in calls.items():
            try:
                outcomes[name] = f"returned {await call()!r}"
            except UserNotFound:
                outcomes[name] = "raised UserNotFound"

    wrong = {name: what for name, what in outcomes.items() if what != "raised UserNotFound"}
    assert not wrong, (
        f"For a user that does not exist, these should raise UserNotFound (app/users/"
        f"exceptions.py) instead: {wrong}. A service says what went wrong in the domain's "
        f"words; returning None leaves every caller to remember a check {WHERE}."
    )


def http_errors_built_in(module) -> list[str]:
    """Where a module names HTTPException or catches exceptions, as 'line N: what'."""
    found = []
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, ast.Name | ast.alias | ast.Attribute):
            name = getattr(node, "id", None) or getattr(node, "name", None) or node.attr
            if name == "HTTPException":
                found.append(f"line {node.lineno}: HTTPException")
        if isinstance(node, ast.Try):
            found.append(f"line {node.lineno}: try/except")
    return sorted(set(found), key=lambda where: int(where.split()[1].rstrip(":")))


def test_the_users_routes_and_service_build_no_http_errors():
    for module in (app.users.router, app.users.service):
        if module is app.users.service:
            # The service may catch the database's IntegrityError; it must not speak HTTP.
            found = [where for where in http_errors_built_in(module) if "HTTPException" in where]
        else:
            found = http_errors_built_in(module)

        assert not found, (
            f"{module.__name__.replace('.', '/')}.py still turns errors into HTTP itself "
            f"({', '.join(found)}). Let the domain exceptions travel: the service raises "
            f"UserNotFound or UserAlreadyExists, the route just calls it, and problems.py "
            f"answers for everyone {WHERE}."
        )
