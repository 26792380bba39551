"""What can go wrong with a bearer token, in the domain's words (the routes turn it into HTTP)."""


class NotAuthenticated(Exception):
    def __init__(self) -> None:
        super().__init__("This route needs a bearer access token.")


class InvalidToken(Exception):
    """Malformed, badly signed, expired, of the other type, or its user is gone."""


class LoginEnded(Exception):
    def __init__(self) -> None:
        super().__init__("This login has ended (logged out, expired or revoked); log in again.")


class LoginStoreUnavailable(Exception):
    def __init__(self) -> None:
        super().__init__("Logins cannot be checked right now; try again shortly.")
