"""What can go wrong when logging in and refreshing (the routes turn it into HTTP)."""

# TODO(errors.domain_exceptions): make both DomainErrors of their kind, each with its stable
# `code` (its name in snake_case), as in app/users/exceptions.py. Both refuse a caller, so
# both answer 401 with the WWW-Authenticate header that asks for a bearer token.


class InvalidCredentials(Exception):
    def __init__(self) -> None:
        # The same words for an unknown email and a wrong password: no account enumeration.
        super().__init__("The email or the password is wrong.")


class RefreshTokenReused(Exception):
    def __init__(self) -> None:
        super().__init__(
            "This refresh token was already used, so it may have been stolen: every token of "
            "this login has been revoked. Log in again."
        )
