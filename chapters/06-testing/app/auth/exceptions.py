"""What can go wrong when logging in and refreshing."""

from app.exceptions import Unauthorized


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"

    def __init__(self) -> None:
        # The same words for an unknown email and a wrong password: no account enumeration.
        super().__init__("The email or the password is wrong.")


class RefreshTokenReused(Unauthorized):
    code = "refresh_token_reused"

    def __init__(self) -> None:
        super().__init__(
            "This refresh token was already used, so it may have been stolen: every token of "
            "this login has been revoked. Log in again."
        )
