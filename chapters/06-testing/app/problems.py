"""RFC 9457 problem details: every error the service answers, in one place.

The body is `application/problem+json` with `type`, `title`, `status`, `detail` and
`instance`, plus two extension members: `code` (stable, for programs) and `request_id` (for
support). Validation errors add `errors`, one entry per field.
"""

import logging
from http import HTTPStatus
from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

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
    413: "content_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    431: "request_header_fields_too_large",
    503: "service_unavailable",
}


def http_error_code(status: int) -> str:
    return HTTP_ERROR_CODES.get(status, f"http_{status}")


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
    body.update(extensions)
    if request_id is not None:
        headers = {**(headers or {}), "X-Request-ID": request_id}
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


# The methods a 405's Allow header may name.
HTTP_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path. Starlette's 405 names only the first
    route's, but `GET /users` and `POST /users` are two routes of one resource."""
    routes = request.app.router.routes
    allowed = [
        method
        for method in HTTP_METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    ]
    return ", ".join(allowed)


async def handle_http_exception(request: Request, error: StarletteHTTPException) -> ProblemResponse:
    status = HTTPStatus(error.status_code)
    detail = error.detail if isinstance(error.detail, str) else status.description
    headers = dict(error.headers or {})
    if error.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return _request_problem(
        request,
        status=error.status_code,
        detail=detail,
        code=http_error_code(error.status_code),
        headers=headers,
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
    errors = list(error.errors())
    if any(item["type"] == "json_invalid" for item in errors):
        return _request_problem(
            request, status=400, detail="The request body is not valid JSON.", code="invalid_json"
        )
    return _request_problem(
        request,
        status=422,
        detail="The request has invalid fields; see `errors`.",
        code="validation_error",
        errors=[_field_error(item) for item in errors],
    )


# What an unreachable or overloaded PostgreSQL raises: refused or timed-out connections, a
# dropped one, or no free connection in the pool in time.
DATABASE_UNAVAILABLE_ERRORS = (
    ConnectionError,
    TimeoutError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
)


async def handle_database_unavailable(request: Request, error: Exception) -> ProblemResponse:
    """Not a bug but an outage: 503 tells clients and load balancers to come back later."""
    logger.warning("database unavailable", exc_info=error)
    return _request_problem(
        request,
        status=503,
        detail="The database is unavailable; try again shortly.",
        code="database_unavailable",
        headers={"Retry-After": "5"},
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
    for error_class in DATABASE_UNAVAILABLE_ERRORS:
        app.add_exception_handler(error_class, handle_database_unavailable)
    app.add_exception_handler(Exception, handle_unexpected_error)


# --- OpenAPI ---------------------------------------------------------------------------------


class FieldError(BaseModel):
    field: str
    message: str
    type: str


class Problem(BaseModel):
    """The body of every error answer (RFC 9457)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the problems a route can answer."""
    return {status: {"description": HTTPStatus(status).phrase} for status in statuses}


def document_problems(app: FastAPI) -> None:
    """Make the OpenAPI document say `application/problem+json` + `Problem` for every error."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(problem_schema.pop("$defs", {}))
            components["Problem"] = problem_schema
            problem_content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    for status, response in operation.get("responses", {}).items():
                        if status.isdigit() and int(status) >= 400:
                            response["content"] = problem_content
            # FastAPI's own 422 schemas are replaced by Problem above.
            components.pop("HTTPValidationError", None)
            components.pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
