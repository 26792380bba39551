"""Pure ASGI middleware: each wraps the app and touches only what it needs.

Pure ASGI (a class with `__call__(scope, receive, send)`) instead of `BaseHTTPMiddleware`:
no extra task per request, streaming bodies stay streams, and context variables set here are
seen by the route and by every log line.
"""

import logging
import re
import time
from collections.abc import Callable
from http import HTTPStatus
from uuid import uuid4

from fastapi import HTTPException
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.logs import request_id_var
from app.problems import PROBLEM_JSON, ProblemResponse, http_error_code, problem

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is reused only when it is short and plain: it ends up in every log line.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")

access_logger = logging.getLogger("app.access")


def route_template(scope: Scope) -> str:
    """`/users/{user_id}`, not `/users/4f0c...`: the label logs and metrics group by."""
    route = scope.get("route")
    # path_format drops convertors: `/users/{user_id}` for `/users/{user_id:uuid}`.
    return getattr(route, "path_format", None) or "unmatched"


def on_response_start(send: Send, see: Callable[[Message], None]) -> Send:
    """`send`, letting `see` read or change the response's first message (status, headers)
    before it goes out: the one place where a middleware hooks into the answer."""

    async def send_after_seeing(message: Message) -> None:
        if message["type"] == "http.response.start":
            see(message)
        await send(message)

    return send_after_seeing


def _request_problem(scope: Scope, status: int, detail: str) -> ProblemResponse:
    return problem(
        status=status,
        detail=detail,
        code=http_error_code(status),
        instance=scope["path"],
        request_id=scope.get("state", {}).get("request_id"),
    )


class RequestIdMiddleware:
    """Accept the caller's `X-Request-ID` or make one; return it and log it everywhere."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        request_id = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else uuid4().hex
        # request.state.request_id: for error handlers that run after the context is reset.
        scope.setdefault("state", {})["request_id"] = request_id

        def add_request_id(message: Message) -> None:
            MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id

        token = request_id_var.set(request_id)
        try:
            await self.app(scope, receive, on_response_start(send, add_request_id))
        finally:
            request_id_var.reset(token)


class ProcessTimeMiddleware:
    """`X-Process-Time`: seconds the service spent before it started answering."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        def add_process_time(message: Message) -> None:
            elapsed = time.perf_counter() - started
            MutableHeaders(scope=message)["X-Process-Time"] = f"{elapsed:.6f}"

        await self.app(scope, receive, on_response_start(send, add_process_time))


class AccessLogMiddleware:
    """One JSON line per request: method, path, route template, status, duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        def record_status(message: Message) -> None:
            nonlocal status
            status = message["status"]

        try:
            await self.app(scope, receive, on_response_start(send, record_status))
        finally:
            client = scope.get("client")
            access_logger.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route_template(scope),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    "client": client[0] if client else None,
                },
            )


class RequestSizeLimitMiddleware:
    """Refuse a request line plus headers over the limit with 431, and a body over its limit
    with 413, whether its size is declared up front or it is streamed.

    The server parses the headers before this runs: uvicorn's h11 caps what it buffers per
    read, not per request, so this is where the per-request limit holds.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_header_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _head_size(scope) > self.max_header_bytes:
            detail = f"The request line and headers are larger than {self.max_header_bytes} bytes."
            await _request_problem(scope, 431, detail)(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _request_problem(scope, 413, self._body_detail())(scope, receive, send)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    # Raised while the route reads its body: the problem handler answers 413.
                    raise HTTPException(status_code=413, detail=self._body_detail())
            return message

        await self.app(scope, receive_within_limit, send)

    def _body_detail(self) -> str:
        return f"The request body is larger than {self.max_body_bytes} bytes."


def _head_size(scope: Scope) -> int:
    """About the bytes of the request line and headers as they came over the wire."""
    line = len(scope.get("raw_path") or scope["path"]) + len(scope.get("query_string", b""))
    return line + sum(len(name) + len(value) + 4 for name, value in scope["headers"])


class TrailingSlashMiddleware:
    """Serve `/users/` as `/users`, without a redirect (clients often add the slash)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and len(scope["path"]) > 1 and scope["path"].endswith("/"):
            scope["path"] = scope["path"].rstrip("/") or "/"
            if raw_path := scope.get("raw_path"):
                scope["raw_path"] = raw_path.rstrip(b"/") or b"/"
        await self.app(scope, receive, send)


class PlainErrorsAsProblemsMiddleware:
    """Errors that middleware answers before the app, such as Starlette's refused Host or
    CORS preflight (`text/plain` 400s), become problem documents like every other error."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: Message | None = None  # the start of a plain error, kept until its body is read
        body = b""

        async def send_errors_as_problems(message: Message) -> None:
            nonlocal held, body
            if message["type"] == "http.response.start" and _is_plain_error(message):
                held = message
                return
            if held is None:
                await send(message)
                return
            body += message.get("body", b"")
            if not message.get("more_body", False):
                await _as_problem(scope, held, body)(scope, receive, send)

        await self.app(scope, receive, send_errors_as_problems)


def _is_plain_error(start: Message) -> bool:
    content_type = Headers(raw=start["headers"]).get("content-type", "")
    return start["status"] >= 400 and not content_type.startswith(PROBLEM_JSON)


def _as_problem(scope: Scope, start: Message, body: bytes) -> ProblemResponse:
    status = start["status"]
    kept = {  # the original's own headers (Vary, Allow, ...), not those of its body
        name: value
        for name, value in Headers(raw=start["headers"]).items()
        if name not in {"content-type", "content-length"}
    }
    return problem(
        status=status,
        detail=body.decode("utf-8", errors="replace").strip() or HTTPStatus(status).phrase,
        code=http_error_code(status),
        instance=scope["path"],
        request_id=scope.get("state", {}).get("request_id"),
        headers=kept,
    )
