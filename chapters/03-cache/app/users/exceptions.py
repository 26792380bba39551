"""What can go wrong with users, in the domain's words (the routes turn it into HTTP)."""


class UserAlreadyExists(Exception):
    def __init__(self) -> None:
        super().__init__("A user with this email address already exists.")
