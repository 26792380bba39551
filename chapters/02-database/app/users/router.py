"""`/users`: register, read, list, change and delete users."""

from uuid import UUID

from fastapi import APIRouter, HTTPException, status

router = APIRouter(prefix="/users", tags=["users"])

MAX_PAGE_SIZE = 100
MAX_OFFSET = 10_000  # deeper pages cost a scan of every skipped row


def _not_found(user_id: UUID) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"There is no user with id {user_id}.")


def _email_taken() -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, "A user with this email already exists.")


# TODO(database.crud): the routes, each calling app/users/service.py with a SessionDep
# (app/dependencies.py) and answering a UserRead (app/users/schemas.py):
#   POST ""  and "/" (both, so the slash is not a redirect): 201 and a Location header
#   GET /{user_id}: the user, or _not_found(user_id)
#   PATCH /{user_id}: a UserUpdate; the user, or _not_found(user_id)
#   DELETE /{user_id}: 204 with no body, or _not_found(user_id)
# TODO(database.pagination): GET "": a UserPage; `limit` 1..MAX_PAGE_SIZE (default 20) and
# `offset` 0..MAX_OFFSET (default 0) as bounded Query parameters.
# TODO(database.unique_email): POST and PATCH answer _email_taken() (409) when the service
# raises UserAlreadyExists (app/users/exceptions.py).
