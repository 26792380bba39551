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
        # TODO(config.timing): give every HTTP response an `X-Process-Time` header: the
        # seconds (as text, to the microsecond) from the moment the request reached this
        # middleware to the moment the app started its response, so it measures the app's
        # work. The response's status and headers travel in the first message the app sends
        # (of type `http.response.start`), so that is where the header goes; the body may
        # follow in many more messages. Lifespan and websocket scopes are not requests: let
        # them through untouched.
        await self.app(scope, receive, send)
