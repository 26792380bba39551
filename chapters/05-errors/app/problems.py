"""RFC 9457 problem details: every error the service answers, in one place.

The body is `application/problem+json` with `type`, `title`, `status`, `detail` and
`instance`, plus two extension members: `code` (stable, for programs) and `request_id` (for
support). Validation errors add `errors`, one entry per field.
"""

import logging
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
    # TODO(errors.problem_details): build the body: "type" ("about:blank"), "title"
    # (HTTPStatus(status).phrase), "status", "detail", "code", then "instance" and
    # "request_id" when given (the id also as an X-Request-ID header), then the extensions.
    # Return ProblemResponse(body, status_code=status, headers=headers).
    raise NotImplementedError


def _request_problem(request: Request, **kwargs: Any) -> ProblemResponse:
    return problem(
        instance=request.url.path,
        request_id=getattr(request.state, "request_id", None),
        **kwargs,
    )


async def handle_domain_error(request: Request, error: DomainError) -> ProblemResponse:
    # TODO(errors.domain_exceptions): answer with the error's status_code, detail, code and
    # headers (through _request_problem).
    raise NotImplementedError


async def handle_http_exception(request: Request, error: StarletteHTTPException) -> ProblemResponse:
    """The framework's own errors: an unknown route (404), a wrong method (405), a missing
    bearer token (401)..."""
    # TODO(errors.problem_details): answer with the error's status code, its detail (when it
    # is a string), a code from HTTP_ERROR_CODES and its headers (WWW-Authenticate, Allow).
    raise NotImplementedError


async def handle_validation_error(
    request: Request, error: RequestValidationError
) -> ProblemResponse:
    # TODO(errors.problem_details): a 422 "validation_error" whose `errors` extension lists
    # every item of error.errors() as {"field": "body.email", "message", "type"}. Never
    # the item's "input": the rejected value may be a password.
    raise NotImplementedError


async def handle_unexpected_error(request: Request, error: Exception) -> ProblemResponse:
    """A bug: log it with its traceback, answer 500 with the request id and nothing else."""
    # TODO(errors.unhandled): log the error with its traceback (exc_info) and
    # extra={"request_id": ...} from request.state, then answer a 500 "internal_error"
    # whose detail says nothing about the error itself.
    raise NotImplementedError


def install_problem_handlers(app: FastAPI) -> None:
    """Map every kind of error to its handler above."""
    # TODO(errors.problem_details): register handle_http_exception for Starlette's
    # HTTPException (not FastAPI's subclass) and handle_validation_error for
    # RequestValidationError, with app.add_exception_handler.
    # TODO(errors.domain_exceptions): register handle_domain_error for DomainError.
    # TODO(errors.unhandled): register handle_unexpected_error for Exception.
