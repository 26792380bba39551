"""RFC 9457 problem details: every error the service answers, in one place.

The body is `application/problem+json` with `type`, `title`, `status`, `detail` and
`instance`, plus two extension members: `code` (stable, for programs) and `request_id` (for
support). Validation errors add `errors`, one entry per field.
"""

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.exceptions import DomainError

PROBLEM_JSON = "application/problem+json"

logger = logging.getLogger(__name__)

# Stable codes for the framework's own errors (HTTPStatus names differ between Pythons).
HTTP_ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    415: "unsupported_media_type",
}


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON


def problem(
    *,
    status: int,
    detail: str,
    code: str,
    instance: str | None = None,
    request_id: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> ProblemResponse:
    """A problem details response. `type` stays `about:blank`: `code` says what went wrong."""
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance is not None:
        body["instance"] = instance
    if request_id is not None:
        body["request_id"] = request_id
        # Also as a header: a 500 is sent from outside the request-id middleware.
        headers = {**(headers or {}), "X-Request-ID": request_id}
    body.update(extensions)
    return ProblemResponse(body, status_code=status, headers=headers)


def _request_problem(request: Request, **kwargs: Any) -> ProblemResponse:
    return problem(
        instance=request.url.path,
        request_id=getattr(request.state, "request_id", None),
        **kwargs,
    )


async def handle_domain_error(request: Request, error: DomainError) -> ProblemResponse:
    return _request_problem(
        request,
        status=error.status_code,
        detail=error.detail,
        code=error.code,
        headers=error.headers,
    )


async def handle_http_exception(request: Request, error: StarletteHTTPException) -> ProblemResponse:
    """The framework's own errors: an unknown route (404), a wrong method (405), a missing
    bearer token (401)..."""
    status = HTTPStatus(error.status_code)
    detail = error.detail if isinstance(error.detail, str) else status.description
    return _request_problem(
        request,
        status=error.status_code,
        detail=detail,
        code=HTTP_ERROR_CODES.get(error.status_code, f"http_{error.status_code}"),
        headers=error.headers,
    )


def _field_error(error: dict[str, Any]) -> dict[str, str]:
    # Only where and why: the rejected value is never echoed, it may be a password.
    return {
        "field": ".".join(str(part) for part in error["loc"]),
        "message": error["msg"],
        "type": error["type"],
    }


async def handle_validation_error(
    request: Request, error: RequestValidationError
) -> ProblemResponse:
    return _request_problem(
        request,
        status=422,
        detail="The request has invalid fields; see `errors`.",
        code="validation_error",
        errors=[_field_error(item) for item in error.errors()],
    )


async def handle_unexpected_error(request: Request, error: Exception) -> ProblemResponse:
    """A bug: log it with its traceback, answer 500 with the request id and nothing else."""
    # Runs outside the middleware, after the request-id context is gone: pass the id along.
    request_id = getattr(request.state, "request_id", None)
    logger.error("unhandled error", exc_info=error, extra={"request_id": request_id})
    return _request_problem(
        request,
        status=500,
        detail="An unexpected error occurred. Quote the request id when reporting it.",
        code="internal_error",
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, handle_domain_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(Exception, handle_unexpected_error)
