"""Pure ASGI middleware: a class that wraps the app and touches only what it needs.

Pure ASGI instead of `BaseHTTPMiddleware`: no extra task per request, streaming bodies stay
streams, and context variables set by the route stay visible around it.
"""

import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


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
