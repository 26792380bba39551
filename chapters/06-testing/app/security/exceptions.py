"""What can go wrong with a bearer token. Every 401 invites the client to send one."""

from app.exceptions import ServiceUnavailable, Unauthorized


class NotAuthenticated(Unauthorized):
    code = "not_authenticated"

    def __init__(self) -> None:
        super().__init__("This route needs a bearer access token.")


class InvalidToken(Unauthorized):
    """Malformed, badly signed, expired, of the other type, or its user is gone."""

    code = "invalid_token"


class LoginEnded(Unauthorized):
    code = "login_ended"

    def __init__(self) -> None:
        super().__init__("This login has ended (logged out, expired or revoked); log in again.")


class LoginStoreUnavailable(ServiceUnavailable):
    code = "auth_unavailable"

    def __init__(self) -> None:
        super().__init__(
            "Logins cannot be checked right now; try again shortly.", headers={"Retry-After": "5"}
        )
