"""What can go wrong with users, in the domain's words."""

from uuid import UUID

from app.exceptions import Conflict, Forbidden, NotFound


class UserNotFound(NotFound):
    code = "user_not_found"

    def __init__(self, user_id: UUID) -> None:
        super().__init__(f"There is no user with id {user_id}.")


class UserAlreadyExists(Conflict):
    code = "user_already_exists"

    def __init__(self) -> None:
        # The address is not repeated: the caller knows it, a log reader does not need it.
        super().__init__("A user with this email address already exists.")


class WrongCurrentPassword(Forbidden):
    code = "wrong_current_password"

    def __init__(self) -> None:
        super().__init__("The current password is wrong.")


class AdminRequired(Forbidden):
    code = "admin_required"

    def __init__(self) -> None:
        super().__init__("Only an admin may do this.")
