"""What can go wrong with users, in the domain's words (the routes turn it into HTTP)."""

from uuid import UUID


class UserNotFound(Exception):
    def __init__(self, user_id: UUID) -> None:
        super().__init__(f"There is no user with id {user_id}.")


class UserAlreadyExists(Exception):
    def __init__(self) -> None:
        # The address is not repeated: the caller knows it, a log reader does not need it.
        super().__init__("A user with this email address already exists.")
