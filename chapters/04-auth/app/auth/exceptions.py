"""What can go wrong with authentication, in the domain's words (the routes turn it into HTTP)."""


class InvalidCredentials(Exception):
    def __init__(self) -> None:
        # The same words for an unknown email and a wrong password: no account enumeration.
        super().__init__("The email or the password is wrong.")


class InvalidToken(Exception):
    """Malformed, badly signed, expired, of the other type, or its user is gone."""


class TokenRevoked(Exception):
    def __init__(self) -> None:
        super().__init__("This token has been revoked; log in again.")


class RefreshTokenReused(Exception):
    def __init__(self) -> None:
        super().__init__("This refresh token was already used or revoked; log in again.")
