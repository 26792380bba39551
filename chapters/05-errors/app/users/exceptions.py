"""What can go wrong with users, in the domain's words (the routes turn it into HTTP)."""

from uuid import UUID

# TODO(errors.domain_exceptions): make each of these a DomainError (app/exceptions.py) of its
# kind, so that it carries its own HTTP answer: the kind gives the status (not found,
# conflict, forbidden), and each class adds a stable `code` that programs can branch on, its
# name in snake_case ("user_not_found"). app/security/exceptions.py is done this way.


class UserNotFound(Exception):
    def __init__(self, user_id: UUID) -> None:
        super().__init__(f"There is no user with id {user_id}.")


class UserAlreadyExists(Exception):
    def __init__(self) -> None:
        # The address is not repeated: the caller knows it, a log reader does not need it.
        super().__init__("A user with this email address already exists.")


class WrongCurrentPassword(Exception):
    def __init__(self) -> None:
        super().__init__("The current password is wrong.")


class AdminRequired(Exception):
    def __init__(self) -> None:
        super().__init__("Only an admin may do this.")
