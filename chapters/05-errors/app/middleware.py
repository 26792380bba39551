"""Pure ASGI middleware: a class that wraps the app and touches only what it needs.

Pure ASGI instead of `BaseHTTPMiddleware`: no extra task per request, streaming bodies stay
streams, and context variables set by the route stay visible around it.
"""

import re
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
        # TODO(errors.request_id): for "http" scopes, keep the incoming X-Request-ID when it
        # fully matches _VALID_REQUEST_ID, else make one (uuid4().hex). Put it in
        # scope["state"]["request_id"] and in request_id_var (app/logs.py) while the app runs,
        # and add it to the response's headers, as ProcessTimeMiddleware does with its own.
        await self.app(scope, receive, send)
