"""Dependencies of the users routes."""

from uuid import UUID

from fastapi import Request

from app.auth.dependencies import BearerToken, authenticate_and_read_json


async def get_requested_user_json(user_id: UUID, request: Request, token: BearerToken) -> str:
    """The JSON of the user named in the path, for an authenticated caller, or UserNotFound
    (404).

    The caller's token and both users are checked and read in ONE Redis round trip.
    """
    return await authenticate_and_read_json(request, token, user_id)
