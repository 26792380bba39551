"""Dependencies of the users routes."""

from uuid import UUID

from fastapi import Request

from app.auth.dependencies import BearerToken, authenticate
from app.users.schemas import UserRead


async def get_requested_user(user_id: UUID, request: Request, token: BearerToken) -> UserRead:
    """The user named in the path, for an authenticated caller, or UserNotFound (404).

    The caller's token and both users are checked and read in ONE Redis round trip.
    """
    _, (user,) = await authenticate(request, token, also_read=[user_id])
    return user
