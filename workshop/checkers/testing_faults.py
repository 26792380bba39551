"""The planted faults of chapter 06: faulty variants of the correct service.

Each fault is a few exact edits to a copy of `solutions/06-testing`. A fault breaks one
behaviour, and only one, so that one good test catches it and a suite that tests something
else does not. The learner reads only `unnoticed` (what the service did wrong, in their words)
and `catch_it` (what a test that catches it does); the edits stay here, out of the chapter.

Every edit must match its file exactly once: `tests/test_checker_testing_faults.py` proves it
for every fault, so a change to the solution that moves an anchor fails there, loudly, instead
of planting nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Edit:
    path: str  # relative to the code tree
    old: str  # must occur exactly once
    new: str


@dataclass(frozen=True)
class Fault:
    id: str  # stable, "<area>.<name>"
    exercise: str  # the manifest exercise whose test file should catch it
    unnoticed: str  # what the faulty service does, completing "Your tests pass on a service where"
    catch_it: str  # what a test that catches it does
    edits: tuple[Edit, ...]


class FaultDoesNotApply(RuntimeError):
    """An edit's anchor is not in the code tree exactly once: the solution changed under it."""


def plant(fault: Fault, tree: Path) -> None:
    """Apply the fault's edits to a copy of the correct service at `tree`."""
    for edit in fault.edits:
        path = tree / edit.path
        text = path.read_text(encoding="utf-8")
        found = text.count(edit.old)
        if found != 1:
            raise FaultDoesNotApply(
                f"fault {fault.id}: expected its anchor once in {edit.path}, found it {found} "
                f"times:\n{edit.old}"
            )
        path.write_text(text.replace(edit.old, edit.new), encoding="utf-8")


SERVICE = "app/users/service.py"
ROUTER = "app/users/router.py"
CACHE = "app/users/cache.py"
MODELS = "app/users/models.py"
MIGRATION = "migrations/versions/2026_11_25_1809-c43c77388c02_create_users_table.py"

# "Does it exist? No: insert it." Between the check and the insert, production's argon2 takes
# some 50 ms; the tests' cheap hashing takes one, so the sleep gives the race its real width.
CHECK_FIRST = (
    Edit(SERVICE, "from collections.abc import", "import asyncio\nfrom collections.abc import"),
    Edit(
        SERVICE,
        '    """Insert a user. A taken email (in any letter case) raises UserAlreadyExists."""\n',
        '    """Insert a user. A taken email (in any letter case) raises UserAlreadyExists."""\n'
        "    if await get_user_by_email(session, email=data.email) is not None:\n"
        "        raise UserAlreadyExists()\n"
        "    await asyncio.sleep(0.05)\n",
    ),
)

USERS = (
    Fault(
        id="users.page_offset",
        exercise="testing.users",
        unnoticed="GET /users skips a user: with offset=0 the page starts at the second-oldest "
        "user, not the oldest",
        catch_it="create a few users, then check the ids of the first page (offset=0) and of "
        "the last one, in order",
        edits=(Edit(SERVICE, ".limit(limit).offset(offset)", ".limit(limit).offset(offset + 1)"),),
    ),
    Fault(
        id="users.page_total",
        exercise="testing.users",
        unnoticed="the `total` of GET /users counts the users on the page instead of every user",
        catch_it="create more users than fit on a page (limit=2), then check `total`",
        edits=(
            Edit(
                SERVICE,
                "    total = await session.scalar(select(func.count()).select_from(User))\n",
                "    total = len(users)\n",
            ),
        ),
    ),
    Fault(
        id="users.patch_erases",
        exercise="testing.users",
        unnoticed="PATCH /users/{id} erases the full name when the request does not send it",
        catch_it="create a user with a full name, PATCH only its email, then check that the "
        "full name is still there",
        edits=(
            Edit(
                SERVICE,
                "    for field, value in changes.model_dump(exclude_unset=True, "
                'exclude={"password"}).items():\n        setattr(user, field, value)\n',
                '    for field, value in changes.model_dump(exclude={"password"}).items():\n'
                '        if value is not None or field == "full_name":\n'
                "            setattr(user, field, value)\n",
            ),
        ),
    ),
    Fault(
        id="users.delete_status",
        exercise="testing.users",
        unnoticed="DELETE /users/{id} answers 200 with a JSON body instead of 204 No Content",
        catch_it="delete your own account, then check the status code and that the body is empty",
        edits=(
            Edit(
                ROUTER,
                '@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)\n'
                "async def delete_user(\n"
                "    owner: AccountOwner, session: SessionDep, user_cache: UserCacheDep\n"
                ") -> Response:\n",
                '@router.delete("/{user_id}")\n'
                "async def delete_user(\n"
                "    owner: AccountOwner, session: SessionDep, user_cache: UserCacheDep\n"
                ") -> dict[str, str]:\n",
            ),
            Edit(
                ROUTER,
                "    await service.delete_user(session, user_id=owner.id, cache=user_cache)\n"
                "    return Response(status_code=status.HTTP_204_NO_CONTENT)\n",
                "    await service.delete_user(session, user_id=owner.id, cache=user_cache)\n"
                '    return {"detail": "User deleted."}\n',
            ),
        ),
    ),
    Fault(
        id="users.email_case",
        exercise="testing.users",
        unnoticed="an email that differs only in letter case (Ada@… and ada@…) registers a "
        "second account",
        catch_it="create a user, then register the same email in capitals and expect 409",
        edits=(
            Edit(
                MODELS,
                "Index(None, func.lower(User.email), unique=True)",
                "Index(None, User.email, unique=True)",
            ),
            Edit(MIGRATION, '[sa.literal_column("lower(email)")]', '["email"]'),
        ),
    ),
)

CONCURRENCY = (
    Fault(
        id="concurrency.duplicate_accounts",
        exercise="testing.concurrency",
        unnoticed="registrations with one email that arrive at the same moment create several "
        "accounts (one after the other they are refused)",
        catch_it="send twenty registrations with one email at once (asyncio.gather) and count "
        "the 201s and the rows in the users table",
        edits=(
            *CHECK_FIRST,
            Edit(
                MODELS,
                "Index(None, func.lower(User.email), unique=True)",
                "Index(None, func.lower(User.email), unique=False)",
            ),
            Edit(
                MIGRATION,
                '[sa.literal_column("lower(email)")], unique=True',
                '[sa.literal_column("lower(email)")], unique=False',
            ),
        ),
    ),
    Fault(
        id="concurrency.race_500",
        exercise="testing.concurrency",
        unnoticed="registrations with one email that arrive at the same moment get a 500 "
        "instead of 409 Conflict for all but the winner",
        catch_it="send twenty registrations with one email at once (asyncio.gather) and check "
        "every status: one 201, and 409 for all the others",
        edits=(
            *CHECK_FIRST,
            Edit(
                SERVICE,
                "    async with _email_must_be_unique(session):\n"
                "        session.add(user)\n"
                "        await session.commit()\n",
                "    session.add(user)\n    await session.commit()\n",
            ),
        ),
    ),
    Fault(
        id="concurrency.shared_session",
        exercise="testing.concurrency",
        unnoticed="reading several different users at the same moment fails (their loads "
        "share one database session)",
        catch_it="read a few different users at once (asyncio.gather of GET /users/{id}) with "
        "a cold cache, and expect 200 for each",
        edits=(
            Edit(
                CACHE,
                "        self._sessionmaker = sessionmaker\n",
                "        self._sessionmaker = sessionmaker\n"
                "        self._session = sessionmaker()\n",
            ),
            Edit(
                CACHE,
                "        async with self._sessionmaker() as session:\n"
                "            row = await session.get(User, user_id)\n"
                "            user = None if row is None else UserRead.model_validate(row)\n",
                "        try:\n"
                "            row = await self._session.get(User, user_id, populate_existing=True)\n"
                "            user = None if row is None else UserRead.model_validate(row)\n"
                "        finally:\n"
                "            await self._session.close()\n",
            ),
        ),
    ),
)

CACHE_FAULTS = (
    Fault(
        id="cache.stale_after_update",
        exercise="testing.cache",
        unnoticed="a user read after a PATCH still shows the old values (the cached copy is "
        "never dropped)",
        catch_it="read a user (the cache is warm), PATCH it, then read it again",
        edits=(
            Edit(
                SERVICE,
                "    # After the commit: invalidating before it would let a read cache the old "
                "row again.\n    await cache.invalidate(user_id)\n",
                "",
            ),
        ),
    ),
    Fault(
        id="cache.stale_after_delete",
        exercise="testing.cache",
        unnoticed="a deleted user can still be read: GET /users/{id} answers 200 from the "
        "cache instead of 404",
        catch_it="have another user read it (the cache is warm), delete it, then read it again",
        edits=(
            Edit(
                SERVICE,
                "    await session.commit()\n    await cache.invalidate(user_id)\n",
                "    await session.commit()\n",
            ),
        ),
    ),
    Fault(
        id="cache.invalidated_before_commit",
        exercise="testing.cache",
        unnoticed="a read that comes between an update's cache invalidation and its commit "
        "caches the old values again",
        catch_it="make that unlucky moment happen on purpose: override get_user_cache with a "
        "cache that reads the user again right after each invalidation, PATCH, then read",
        edits=(
            Edit(
                SERVICE,
                "    async with _email_must_be_unique(session):\n"
                "        await session.commit()\n"
                "    # After the commit: invalidating before it would let a read cache the old "
                "row again.\n    await cache.invalidate(user_id)\n",
                "    await cache.invalidate(user_id)\n"
                "    async with _email_must_be_unique(session):\n"
                "        await session.commit()\n",
            ),
        ),
    ),
    Fault(
        id="cache.never_read",
        exercise="testing.cache",
        unnoticed="the cache is written but never read: every read of a user queries PostgreSQL",
        catch_it="read a user twice and count the SQL statements of the second read "
        "(query_counter)",
        edits=(
            Edit(
                CACHE,
                "        if cached := await self._read(user_id):\n            return cached\n",
                "",
            ),
        ),
    ),
    Fault(
        id="cache.unprefixed_keys",
        exercise="testing.cache",
        unnoticed="cached users are stored under `user:{id}`, without the configured "
        "`redis_key_prefix`",
        catch_it='read a user, then look for the key f"{settings.redis_key_prefix}user:{id}" '
        "in app.state.redis",
        edits=(
            Edit(
                CACHE,
                '        return redis_key(self._settings, "user", user_id)\n',
                '        return f"user:{user_id}"\n',
            ),
        ),
    ),
    Fault(
        id="cache.no_ttl",
        exercise="testing.cache",
        unnoticed="cached users never expire: their Redis key has no TTL",
        catch_it="read a user, then check the TTL of its key in Redis (app.state.redis.ttl)",
        edits=(
            Edit(
                CACHE,
                "self._redis.set(self.key(user.id), user.model_dump_json(), ex=ttl)",
                "self._redis.set(self.key(user.id), user.model_dump_json())",
            ),
        ),
    ),
)

AUTH = (
    Fault(
        id="auth.logout_ignored",
        exercise="testing.auth",
        unnoticed="a logged-out access token still works",
        catch_it="log in, log out (POST /auth/logout), then call GET /users/me with the same "
        "access token and expect 401",
        edits=(
            Edit(
                "app/auth/revocation.py",
                "    if await redis.exists(_revoked_key(settings, claims.jti)):\n",
                "    if await redis.exists(_revoked_key(settings, str(claims.sub))):\n",
            ),
        ),
    ),
    Fault(
        id="auth.refresh_reused",
        exercise="testing.auth",
        unnoticed="a refresh token works more than once",
        catch_it="use one refresh token twice with POST /auth/refresh and expect 401 the "
        "second time",
        edits=(
            Edit(
                "app/auth/service.py",
                "    if not await revocation.revoke_token(redis, settings, claims):\n"
                "        raise RefreshTokenReused()\n",
                "    await revocation.revoke_token(redis, settings, claims)\n",
            ),
        ),
    ),
    Fault(
        id="auth.token_type",
        exercise="testing.auth",
        unnoticed="a refresh token is accepted as an access token",
        catch_it="call GET /users/me with the refresh token as the bearer token and expect 401",
        edits=(
            Edit(
                "app/auth/tokens.py",
                "    if claims.type != expected_type:\n"
                '        raise InvalidToken(f"Expected a token of type {expected_type!r}.")\n',
                "",
            ),
        ),
    ),
    Fault(
        id="auth.forged_token",
        exercise="testing.auth",
        unnoticed="a token signed with another key (a forgery) is accepted",
        catch_it="sign a real token's claims with another key (jose.jwt.encode) and expect 401",
        edits=(
            Edit(
                "app/auth/tokens.py",
                "            options=_REQUIRED_CLAIMS,\n",
                '            options={**_REQUIRED_CLAIMS, "verify_signature": False},\n',
            ),
        ),
    ),
    Fault(
        id="auth.not_owner",
        exercise="testing.auth",
        unnoticed="a user can change and delete another user's account",
        catch_it="log in as one user, PATCH and DELETE another user's account, expect 403",
        edits=(
            Edit(
                "app/auth/dependencies.py",
                "    if user.id != user_id:\n        raise NotAccountOwner()\n",
                "",
            ),
        ),
    ),
)

ERRORS = (
    Fault(
        id="errors.leaky_500",
        exercise="testing.errors",
        unnoticed="a 500 answer tells the client the exception's type and text",
        catch_it="make a dependency raise (override_dependency) with a secret in the message, "
        "use a client with raise_app_exceptions=False, and check the secret is not in the body",
        edits=(
            Edit(
                "app/problems.py",
                '        detail="An unexpected error occurred. Quote the request id when '
                'reporting it.",\n',
                '        detail=f"{type(error).__name__}: {error}",\n',
            ),
        ),
    ),
    Fault(
        id="errors.500_without_request_id",
        exercise="testing.errors",
        unnoticed="a 500 answer carries no request id, in its body or in X-Request-ID",
        catch_it="send X-Request-ID with a request that crashes and look for it in the 500's "
        "body (`request_id`) and headers",
        edits=(
            Edit(
                "app/problems.py",
                "    return _request_problem(\n        request,\n        status=500,\n",
                "    return problem(\n        instance=request.url.path,\n        status=500,\n",
            ),
        ),
    ),
    Fault(
        id="errors.echoed_input",
        exercise="testing.errors",
        unnoticed="a 422 answer repeats the rejected value, so a too-short password comes back "
        "in the response",
        catch_it="register with a password that is too short and check it is not in the body",
        edits=(
            Edit(
                "app/problems.py",
                '        "message": error["msg"],\n',
                "        \"message\": f\"{error['msg']} (got {error.get('input')!r})\",\n",
            ),
        ),
    ),
    Fault(
        id="errors.plain_validation",
        exercise="testing.errors",
        unnoticed="a validation error is FastAPI's plain JSON (`detail`), not problem details",
        catch_it="send an invalid email and check the 422's content-type "
        "(application/problem+json) and its `errors`",
        edits=(
            Edit(
                "app/problems.py",
                "    app.add_exception_handler(RequestValidationError, handle_validation_error)\n",
                "",
            ),
        ),
    ),
)

FAULTS: tuple[Fault, ...] = USERS + CONCURRENCY + CACHE_FAULTS + AUTH + ERRORS
