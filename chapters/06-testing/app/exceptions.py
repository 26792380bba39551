"""Domain exceptions: services raise these, and problems.py turns them into HTTP answers.

A service never knows about HTTP; each class only says which status its kind of failure maps
to, a stable machine-readable `code`, and any headers the answer needs.
"""


class DomainError(Exception):
    """Base class of every failure the service expects and explains to the client."""

    status_code = 400
    code = "bad_request"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class Unauthorized(DomainError):
    """The caller is not authenticated: the answer invites it to send a bearer token."""

    status_code = 401
    code = "unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class TooManyRequests(DomainError):
    status_code = 429
    code = "too_many_requests"


class ServiceUnavailable(DomainError):
    status_code = 503
    code = "service_unavailable"
