"""What can go wrong with authentication. Every 401 invites a bearer token."""

from app.exceptions import Forbidden, Unauthorized


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"

    def __init__(self) -> None:
        # The same words for an unknown email and a wrong password: no account enumeration.
        super().__init__("The email or the password is wrong.")


class InvalidToken(Unauthorized):
    """Malformed, badly signed, expired, of the other type, or its user is gone."""

    code = "invalid_token"


class TokenRevoked(Unauthorized):
    code = "token_revoked"

    def __init__(self) -> None:
        super().__init__("This token has been revoked; log in again.")


class RefreshTokenReused(Unauthorized):
    code = "refresh_token_reused"

    def __init__(self) -> None:
        super().__init__("This refresh token was already used or revoked; log in again.")


class NotAccountOwner(Forbidden):
    code = "not_account_owner"

    def __init__(self) -> None:
        super().__init__("You can only change your own account.")
