"""Pure ASGI middleware: a class that wraps the app and touches only what it needs.

Pure ASGI instead of `BaseHTTPMiddleware`: no extra task per request, streaming bodies stay
streams, and context variables set by the route stay visible around it.
"""

import re
import time
from uuid import uuid4

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.logs import request_id_var

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is reused only when it is short and plain: it ends up in every log line.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


class ProcessTimeMiddleware:
    """`X-Process-Time`: seconds the service spent before it started answering."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan and websocket messages pass untouched
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def send_with_process_time(message: Message) -> None:
            # The headers travel in the first message; the body may follow in many more.
            if message["type"] == "http.response.start":
                elapsed = time.perf_counter() - started
                MutableHeaders(scope=message)["X-Process-Time"] = f"{elapsed:.6f}"
            await send(message)

        await self.app(scope, receive, send_with_process_time)


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

        async def send_with_request_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        token = request_id_var.set(request_id)
        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            request_id_var.reset(token)
