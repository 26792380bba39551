"""Pure ASGI middleware: a class that wraps the app and touches only what it needs.

Pure ASGI instead of `BaseHTTPMiddleware`: no extra task per request, streaming bodies stay
streams, and context variables set by the route stay visible around it.
"""

from starlette.types import ASGIApp, Receive, Scope, Send


class ProcessTimeMiddleware:
    """`X-Process-Time`: seconds the service spent before it started answering."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # TODO(config.timing): for HTTP requests, start a clock and add the `X-Process-Time`
        # header (seconds, as text) to the `http.response.start` message on its way out.
        await self.app(scope, receive, send)
