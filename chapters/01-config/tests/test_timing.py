"""Exercise config.timing: pure ASGI middleware adds X-Process-Time to every response."""

import pytest
from starlette.middleware.base import BaseHTTPMiddleware

from app.middleware import ProcessTimeMiddleware

pytestmark = pytest.mark.exercise("config.timing")

WHERE = "Finish ProcessTimeMiddleware in app/middleware.py (exercise config.timing)."


def process_time_of(response) -> float:
    value = response.headers.get("x-process-time")
    assert value is not None, (
        f"Every response should carry an X-Process-Time header; GET {response.request.url.path} "
        f"answered {response.status_code} without one. {WHERE}"
    )
    try:
        seconds = float(value)
    except ValueError:
        pytest.fail(
            f"X-Process-Time should be seconds as a number, like 0.000412; got {value!r}. "
            f'Write the elapsed seconds with f"{{elapsed:.6f}}". {WHERE}'
        )
    assert 0 <= seconds < 60, (
        f"X-Process-Time should be the seconds spent; got {seconds}. Take "
        f"time.perf_counter() before calling the app and subtract it in send. {WHERE}"
    )
    return seconds


async def test_every_response_carries_x_process_time(client):
    for path in ("/health/live", "/no-such-page"):
        response = await client.get(path)

        process_time_of(response)


async def test_the_middleware_is_pure_asgi_and_leaves_other_scopes_alone():
    assert not issubclass(ProcessTimeMiddleware, BaseHTTPMiddleware), (
        f"Write ProcessTimeMiddleware as pure ASGI (__call__(scope, receive, send)), "
        f"not as a BaseHTTPMiddleware. {WHERE}"
    )
    sent: list[dict] = []
    seen_scope_types: list[str] = []

    async def inner_app(scope, receive, send):
        seen_scope_types.append(scope["type"])
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    middleware = ProcessTimeMiddleware(inner_app)
    await middleware({"type": "http", "method": "GET", "path": "/", "headers": []}, receive, send)
    await middleware({"type": "lifespan"}, receive, send)

    header_names = [name.lower() for name, _ in sent[0]["headers"]]
    assert b"x-process-time" in header_names, (
        f"The http.response.start message should carry X-Process-Time; its headers are "
        f"{header_names}. {WHERE}"
    )
    assert seen_scope_types == ["http", "lifespan"], (
        "Every scope must reach the app: pass lifespan and websocket scopes through untouched "
        f"(`await self.app(scope, receive, send)` for them). {WHERE}"
    )
