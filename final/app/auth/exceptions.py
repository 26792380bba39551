"""What can go wrong with authentication. Every 401 invites a bearer token."""

from app.exceptions import Forbidden, ServiceUnavailable, Unauthorized


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"

    def __init__(self) -> None:
        # The same words for an unknown email and a wrong password: no account enumeration.
        super().__init__("The email or the password is wrong.")


class NotAuthenticated(Unauthorized):
    code = "not_authenticated"

    def __init__(self) -> None:
        super().__init__("This route needs a bearer access token.")


class InvalidToken(Unauthorized):
    code = "invalid_token"


class TokenRevoked(Unauthorized):
    code = "token_revoked"

    def __init__(self) -> None:
        super().__init__("This token has been revoked; log in again.")


class RefreshTokenReused(Unauthorized):
    code = "refresh_token_reused"

    def __init__(self) -> None:
        super().__init__(
            "This refresh token was already used, so it may have been stolen: every token of "
            "this login has been revoked. Log in again."
        )


class AdminRequired(Forbidden):
    code = "admin_required"

    def __init__(self) -> None:
        super().__init__("Only an admin may do this.")


class RevocationCheckUnavailable(ServiceUnavailable):
    code = "auth_unavailable"

    def __init__(self) -> None:
        super().__init__(
            "Tokens cannot be checked right now; try again shortly.", headers={"Retry-After": "5"}
        )
