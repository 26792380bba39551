"""Exercise errors.domain_exceptions: each exception carries its answer, one handler gives it."""

import ast
import importlib
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import text

from app.exceptions import Conflict, DomainError
from app.users.models import Role

pytestmark = pytest.mark.exercise("errors.domain_exceptions")

EXERCISE = "(exercise errors.domain_exceptions)"
# The codes a handler gives an HTTPException: what an answer carries while a route or a
# dependency still translates the domain's exception by hand.
GENERIC_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict"}
# class -> (module, status, code): the stable codes clients branch on.
EXPECTED = {
    "UserNotFound": ("app.users.exceptions", 404, "user_not_found"),
    "UserAlreadyExists": ("app.users.exceptions", 409, "user_already_exists"),
    "WrongCurrentPassword": ("app.users.exceptions", 403, "wrong_current_password"),
    "AdminRequired": ("app.users.exceptions", 403, "admin_required"),
    "InvalidCredentials": ("app.auth.exceptions", 401, "invalid_credentials"),
    "RefreshTokenReused": ("app.auth.exceptions", 401, "refresh_token_reused"),
    "TooManyRequests": ("app.rate_limit", 429, "too_many_requests"),
}
# class -> (the kind to derive from, why that status): what a wrong status is told.
WHY = {
    "UserNotFound": ("NotFound", "the user named in the path does not exist"),
    "UserAlreadyExists": (
        "Conflict",
        "the request is well formed, but the email clashes with an existing account",
    ),
    "WrongCurrentPassword": (
        "Forbidden",
        "the caller is logged in, only the password it re-typed is wrong",
    ),
    "AdminRequired": ("Forbidden", "the caller is known, it just may not do this"),
    "InvalidCredentials": (
        "Unauthorized",
        "the caller could not prove who it is, and may try again with the right password",
    ),
    "RefreshTokenReused": (
        "Unauthorized",
        "the refresh token no longer proves who the caller is",
    ),
    "TooManyRequests": (
        "the TooManyRequests of app/exceptions.py",
        "the caller is over its rate limit for now",
    ),
}
# Where HTTPException may still be named: the handlers, and the body-size middleware, which
# raises the framework's 413 while the route reads the body.
HTTP_MODULES = {"problems.py", "middleware.py"}


def exception_class(name: str) -> type[Exception]:
    module_name = EXPECTED[name][0] if name in EXPECTED else "app.security.exceptions"
    return getattr(importlib.import_module(module_name), name)


def domain_problem_of(app, response, *, status: int, code: str, raised: str, where: str) -> dict:
    """The problem answered for the domain exception `raised`, with a diagnosis of what
    answered instead: no handler, a translation left at `where`, or a wrong class."""
    what = f"{response.request.method} {response.request.url.path}"
    content_type = response.headers.get("content-type", "")
    is_problem = content_type.startswith("application/problem+json")
    body = response.json() if content_type.startswith("application/") and response.text else {}
    if response.status_code == 500:
        if not issubclass(exception_class(raised), DomainError):
            pytest.fail(
                f"{what} should answer {status} {code!r}; it answered 500: {raised} is not a "
                f"DomainError yet, and nothing turns it into an answer any more. Make it one "
                f"of its kind, with its code {EXERCISE}."
            )
        if DomainError not in app.exception_handlers:
            pytest.fail(
                f"{what} should answer {status} {code!r}; it answered 500: {raised} reached no "
                f"handler. Register handle_domain_error for DomainError in "
                f"install_problem_handlers (app/problems.py) {EXERCISE}."
            )
        pytest.fail(
            f"{what} should answer {status} {code!r}; it answered 500, so the handler failed "
            f"on {raised}: {response.text[:200]!r}. `uv run workshop check 05 --tb` shows "
            f"the traceback {EXERCISE}."
        )
    kind, why = WHY.get(raised, ("", ""))
    assert response.status_code == status, (
        f"{what} should answer {status} with code {code!r} ({raised}); it answered "
        f"{response.status_code}: {response.text[:200]!r}. "
        + (f"It is a {status} ({kind}) because {why}. " if why else "")
        + f"Give {raised} the kind of DomainError whose status is {status} {EXERCISE}."
    )
    detail = body.get("detail")
    wrapped = isinstance(detail, str) and detail.startswith("{")  # by PlainErrorsAsProblems
    generic = body.get("code") == GENERIC_CODES.get(status)
    translated = set(body) == {"detail"} or wrapped or generic
    if translated:
        pytest.fail(
            f"{what} answered {response.text[:160]!r}, what an HTTPException gets, not the "
            f"code {code!r}: {raised} is still turned into an HTTPException by hand in "
            f"{where}. Let it travel to handle_domain_error {EXERCISE}."
        )
    assert is_problem, (
        f"{what} should answer a problem document (application/problem+json); it answered "
        f"{content_type!r}: {response.text[:200]!r}. Answer through _request_problem "
        f"{EXERCISE}."
    )
    assert body.get("code") == code, (
        f"{what} should answer the code {code!r}, {raised}'s own; got {body.get('code')!r}. "
        f"The handler gives error.code, the class sets it {EXERCISE}."
    )
    assert body.get("detail"), f"The problem needs the exception's detail; got {body}."
    return body


async def test_the_handler_answers_any_domain_error_with_its_own_status_code_and_headers(
    app, client
):
    class SeatTaken(Conflict):
        code = "seat_taken"

    async def book_a_seat() -> None:
        raise SeatTaken("Seat 12A is taken.", headers={"X-Seat-Map": "/seats"})

    app.add_api_route("/test-only/seats", book_a_seat, methods=["POST"])

    response = await client.post("/test-only/seats")

    if response.status_code == 500 and DomainError not in app.exception_handlers:
        pytest.fail(
            "A DomainError raised by a route should be answered by handle_domain_error; it "
            "reached no handler and became a 500. Write handle_domain_error in app/problems.py "
            f"and register it for DomainError in install_problem_handlers {EXERCISE}."
        )
    assert response.status_code == 409, (
        f"A Conflict should answer its status_code, 409; got {response.status_code}: "
        f"{response.text[:200]!r} {EXERCISE}."
    )
    assert response.headers.get("content-type", "").startswith("application/problem+json"), (
        f"A domain error should answer a problem document; got "
        f"{response.headers.get('content-type')!r}. Answer through _request_problem {EXERCISE}."
    )
    body = response.json()
    assert (body.get("code"), body.get("detail")) == ("seat_taken", "Seat 12A is taken."), (
        f"The problem should carry the exception's own code and detail ('seat_taken', 'Seat "
        f"12A is taken.'); got {body.get('code')!r} and {body.get('detail')!r} {EXERCISE}."
    )
    assert response.headers.get("x-seat-map") == "/seats", (
        "The answer should carry the exception's headers (a 401 needs its WWW-Authenticate, "
        f"a 429 its Retry-After): pass error.headers on {EXERCISE}."
    )


def test_each_exception_is_a_domain_error_with_its_status_and_code():
    wrong = []
    for name, (module_name, status, code) in EXPECTED.items():
        exception = getattr(importlib.import_module(module_name), name)
        where = f"{name} ({module_name.replace('.', '/')}.py)"
        if not issubclass(exception, DomainError):
            bases = ", ".join(
                base.__name__
                if base.__module__ == "builtins"
                else f"{base.__module__}.{base.__name__}"
                for base in exception.__mro__[1:-2]
            )
            wrong.append(f"{where} is not a DomainError (it derives from {bases})")
        elif exception.status_code != status:
            kind, why = WHY[name]
            wrong.append(
                f"{where} answers {exception.status_code} but should answer {status} "
                f"({kind}): {why}. Pick its kind"
            )
        elif exception.code != code:
            wrong.append(f"{where} has the code {exception.code!r}, not {code!r}")
    assert not wrong, (
        "Each domain exception should be a DomainError of its kind (app/exceptions.py) with "
        "a stable code, its name in snake_case: " + "; ".join(wrong) + f" {EXERCISE}."
    )


async def test_an_unknown_user_is_a_404_user_not_found(app, client, create_user, login):
    tokens = await login(await create_user())

    response = await client.get(f"/users/{uuid4()}", headers=tokens.headers)

    domain_problem_of(
        app,
        response,
        status=404,
        code="user_not_found",
        raised="UserNotFound",
        where="app/users/dependencies.py (get_requested_user)",
    )


async def test_a_taken_email_is_a_409_user_already_exists(app, client):
    user = {"email": "grace@example.com", "password": "s3cret-pw"}
    first = await client.post("/users", json=user)
    second = await client.post("/users", json=user | {"email": "GRACE@example.com"})

    assert first.status_code == 201, f"The control: a new email registers: {first.text}"
    domain_problem_of(
        app,
        second,
        status=409,
        code="user_already_exists",
        raised="UserAlreadyExists",
        where="app/users/router.py (http_errors)",
    )


async def test_a_wrong_password_is_a_401_invalid_credentials(app, client, create_user):
    user = await create_user()

    response = await client.post(
        "/auth/token", data={"username": user.email, "password": "not-the-password"}
    )

    domain_problem_of(
        app,
        response,
        status=401,
        code="invalid_credentials",
        raised="InvalidCredentials",
        where="app/auth/router.py (http_errors)",
    )
    assert response.headers.get("www-authenticate") == "Bearer", (
        "A 401 must carry WWW-Authenticate: Bearer: make InvalidCredentials an Unauthorized, "
        f"whose headers say so, and pass error.headers on {EXERCISE}."
    )


async def test_a_forged_token_is_a_401_invalid_token(app, client):
    response = await client.get("/users/me", headers={"Authorization": "Bearer not.a.jwt"})

    domain_problem_of(
        app,
        response,
        status=401,
        code="invalid_token",
        raised="InvalidToken",
        where="app/users/dependencies.py (get_current_login)",
    )
    assert response.headers.get("www-authenticate") == "Bearer", (
        f"A 401 must carry WWW-Authenticate: Bearer: pass error.headers on {EXERCISE}."
    )


async def test_the_token_of_a_deleted_user_is_a_401_invalid_token(app, client, create_user, login):
    user = await create_user()
    tokens = await login(user)
    # The row goes while the login is still alive (deleted by hand, or between the two
    # steps of DELETE /users/me), so the token decodes and its login is alive.
    async with app.state.resources.sessionmaker() as session:
        await session.execute(text("DELETE FROM users WHERE id = :id"), {"id": user.id})
        await session.commit()

    response = await client.get("/users/me", headers=tokens.headers)

    if response.status_code == 404:
        pytest.fail(
            f"GET /users/me with a valid token whose user was deleted answered 404 "
            f"{response.json().get('code')!r}: UserNotFound travelled out of "
            "get_current_login (app/users/dependencies.py). Here the missing user is the "
            "caller's own account: the token is no longer valid, nobody asked for a user "
            "that could not be found. Keep the one translation there: catch UserNotFound "
            f"around the user lookup and raise InvalidToken (a 401) instead {EXERCISE}."
        )
    domain_problem_of(
        app,
        response,
        status=401,
        code="invalid_token",
        raised="InvalidToken",
        where="app/users/dependencies.py (get_current_login)",
    )
    assert response.headers.get("www-authenticate") == "Bearer", (
        f"A 401 must carry WWW-Authenticate: Bearer: pass error.headers on {EXERCISE}."
    )


async def test_a_user_listing_users_is_a_403_admin_required(app, client, create_user, login):
    tokens = await login(await create_user(role=Role.USER))

    response = await client.get("/users", headers=tokens.headers)

    domain_problem_of(
        app,
        response,
        status=403,
        code="admin_required",
        raised="AdminRequired",
        where="app/users/dependencies.py (get_admin_user)",
    )


async def test_a_wrong_current_password_is_a_403(app, client, create_user, login):
    tokens = await login(await create_user())

    response = await client.patch(
        "/users/me",
        json={"password": "a-new-password", "current_password": "not-the-password"},
        headers=tokens.headers,
    )

    domain_problem_of(
        app,
        response,
        status=403,
        code="wrong_current_password",
        raised="WrongCurrentPassword",
        where="app/users/router.py (http_errors)",
    )


async def test_a_refresh_token_used_twice_is_a_401_refresh_token_reused(
    app, client, create_user, login
):
    tokens = await login(await create_user())
    first = await client.post("/auth/refresh", json={"refresh_token": tokens.refresh_token})

    again = await client.post("/auth/refresh", json={"refresh_token": tokens.refresh_token})

    assert first.status_code == 200, f"The control: the first refresh works: {first.text}"
    domain_problem_of(
        app,
        again,
        status=401,
        code="refresh_token_reused",
        raised="RefreshTokenReused",
        where="app/auth/router.py (http_errors)",
    )


async def test_too_many_logins_are_a_429_with_retry_after(app_with):
    async with app_with(login_rate_limit=2) as (app, client):
        form = {"username": "nobody@example.com", "password": "guessing"}
        responses = [await client.post("/auth/token", data=form) for _ in range(3)]

    domain_problem_of(
        app,
        responses[-1],
        status=429,
        code="too_many_requests",
        raised="TooManyRequests",
        where="app/rate_limit.py (its own TooManyRequests is an HTTPException)",
    )
    retry_after = responses[-1].headers.get("retry-after", "")
    assert retry_after.isdigit(), (
        f"A 429 must say when to come back in Retry-After (seconds); got {retry_after!r}. "
        f"Pass error.headers on {EXERCISE}."
    )


def http_exceptions_named(path: Path) -> list[int]:
    """The lines of a module that name HTTPException (import, raise, except, helper)."""
    lines = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        name = None
        if isinstance(node, ast.Name):
            name = node.id
        elif isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.alias):
            name = node.asname or node.name
        if name == "HTTPException":
            lines.add(node.lineno)
    return sorted(lines)


def test_no_route_or_dependency_speaks_http_errors_by_hand():
    package = Path(importlib.import_module("app").__file__).parent
    found = {
        path.relative_to(package.parent).as_posix(): lines
        for path in sorted(package.rglob("*.py"))
        if path.name not in HTTP_MODULES and (lines := http_exceptions_named(path))
    }

    assert not found, (
        "These modules still turn errors into HTTP by hand (HTTPException named at "
        + "; ".join(f"{path} line {', '.join(map(str, lines))}" for path, lines in found.items())
        + "). Let the domain exceptions travel: the routes just call the services, the "
        "dependencies just raise, and handle_domain_error answers for everyone "
        f"{EXERCISE}."
    )
