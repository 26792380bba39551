"""`/users`: register, read, list, and change users (yourself, or anyone as an admin).

Who may see what: anyone may register; a logged-in user reads itself whole and others by
their public fields (id and name); only admins list users and change or delete others.
"""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from app.dependencies import (
    LoginsDep,
    PasswordHasherDep,
    RateLimiterDep,
    SessionDep,
    SettingsDep,
)
from app.problems import problem_responses
from app.users import service
from app.users.dependencies import (
    AdminUser,
    CurrentLogin,
    CurrentUser,
    RequestedUser,
    UserCacheDep,
    limit_registrations,
    limit_writes,
)
from app.users.schemas import (
    AccountUpdate,
    AdminUserUpdate,
    UserCreate,
    UserPage,
    UserPublic,
    UserRead,
)

router = APIRouter(prefix="/users", tags=["users"])

MAX_PAGE_SIZE = 100
MAX_OFFSET = 10_000  # deeper pages cost a scan of every skipped row


# The hottest route first: FastAPI tries routes in order. `:uuid` lets only ids match, so
# `/users/me` can never be taken for one, whatever the order.
@router.get(
    "/{user_id:uuid}", summary="Read a user", responses=problem_responses(401, 404, 422, 503)
)
async def read_user(user: RequestedUser) -> UserRead | UserPublic:
    """Yourself (or anyone, as an admin) whole; any other user by its public fields."""
    return user


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register a user",
    dependencies=[Depends(limit_registrations)],
    responses=problem_responses(400, 409, 413, 422, 429),
)
async def register_user(
    data: UserCreate, session: SessionDep, password_hasher: PasswordHasherDep, response: Response
) -> UserRead:
    """Create an account with the `user` role; the email must be new, in any letter case."""
    user = await service.create_user(session, data=data, password_hasher=password_hasher)
    response.headers["Location"] = f"/users/{user.id}"
    return UserRead.model_validate(user)


@router.get("", summary="List users (admin)", responses=problem_responses(401, 403, 422))
async def list_users(
    session: SessionDep,
    _: AdminUser,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> UserPage:
    """One page of users, oldest first, with the total count."""
    users, total = await service.list_users(session, limit=limit, offset=offset)
    return UserPage(
        items=[UserRead.model_validate(user) for user in users],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/me", summary="Read your own account", responses=problem_responses(401, 503))
async def read_me(user: CurrentUser) -> UserRead:
    """The account the access token belongs to."""
    return user


@router.patch(
    "/me",
    summary="Change your own account",
    dependencies=[Depends(limit_writes)],
    responses=problem_responses(400, 401, 403, 409, 422, 429, 503),
)
async def update_me(
    changes: AccountUpdate,
    login: CurrentLogin,
    session: SessionDep,
    password_hasher: PasswordHasherDep,
    rate_limiter: RateLimiterDep,
    settings: SettingsDep,
    user_cache: UserCacheDep,
    logins: LoginsDep,
) -> UserRead:
    """Change your name, email or password; the last two need `current_password`, and a new
    password signs out your other logins."""
    updated = await service.change_account(
        session,
        user_id=login.user.id,
        changes=changes,
        password_hasher=password_hasher,
        rate_limiter=rate_limiter,
        settings=settings,
        cache=user_cache,
        logins=logins,
        keep_login=login.claims.family,
    )
    return UserRead.model_validate(updated)


@router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete your own account",
    dependencies=[Depends(limit_writes)],
    responses=problem_responses(401, 429, 503),
)
async def delete_me(
    user: CurrentUser, session: SessionDep, user_cache: UserCacheDep, logins: LoginsDep
) -> Response:
    """Delete the account; its tokens stop working with it."""
    await service.delete_user(session, user_id=user.id, cache=user_cache, logins=logins)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch(
    "/{user_id:uuid}",
    summary="Change any user (admin)",
    dependencies=[Depends(limit_writes)],
    responses=problem_responses(400, 401, 403, 404, 409, 422, 429, 503),
)
async def update_user(
    user_id: UUID,
    changes: AdminUserUpdate,
    _: AdminUser,
    session: SessionDep,
    password_hasher: PasswordHasherDep,
    user_cache: UserCacheDep,
    logins: LoginsDep,
) -> UserRead:
    """Change any field of any user, the role included; a new password signs them out."""
    updated = await service.update_user(
        session,
        user_id=user_id,
        changes=changes,
        password_hasher=password_hasher,
        cache=user_cache,
        logins=logins,
    )
    return UserRead.model_validate(updated)


@router.delete(
    "/{user_id:uuid}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete any user (admin)",
    dependencies=[Depends(limit_writes)],
    responses=problem_responses(401, 403, 404, 422, 429, 503),
)
async def delete_user(
    user_id: UUID, _: AdminUser, session: SessionDep, user_cache: UserCacheDep, logins: LoginsDep
) -> Response:
    """Delete any user; its tokens stop working."""
    await service.delete_user(session, user_id=user_id, cache=user_cache, logins=logins)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
