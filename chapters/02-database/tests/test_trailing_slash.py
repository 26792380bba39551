"""Worked section database.trailing_slash: `/users/` is served like `/users`, without a
redirect (no exercise marker: the middleware is given, and these pass before and after)."""

from app.middleware import TrailingSlashMiddleware

WHERE = "TrailingSlashMiddleware (app/middleware.py) and its line in create_app (app/main.py)"


async def test_a_trailing_slash_is_served_without_a_redirect(app, client):
    async def echo(payload: dict) -> dict:
        return payload

    app.add_api_route("/test-only/echo", echo, methods=["POST"])

    with_slash = await client.post("/test-only/echo/", json={"sent": "once"})
    live = await client.get("/health/live/", params={"probe": "yes"})
    registration = await client.post("/users/", json={"email": "slash@example.com"})

    assert (with_slash.status_code, with_slash.json()) == (200, {"sent": "once"}), (
        f"POST /test-only/echo/ should reach the route /test-only/echo with its body; it "
        f"answered {with_slash.status_code}. A 307 would make every client send the body "
        f"twice. Keep {WHERE}."
    )
    assert (live.status_code, live.json()) == (200, {"status": "ok"}), (
        f"GET /health/live/?probe=yes should be served like /health/live; it answered "
        f"{live.status_code}. Keep {WHERE}."
    )
    assert registration.status_code not in (307, 308), (
        f"POST /users/ must never be redirected; it answered {registration.status_code}. "
        f"Keep {WHERE}."
    )


async def test_only_http_paths_that_end_in_a_slash_change():
    seen: list[dict] = []

    async def inner(scope, receive, send) -> None:
        seen.append(dict(scope))

    middleware = TrailingSlashMiddleware(inner)

    for scope in (
        {"type": "http", "path": "/users/", "raw_path": b"/users/"},
        {"type": "http", "path": "/", "raw_path": b"/"},
        {"type": "http", "path": "/users", "raw_path": b"/users"},
        {"type": "lifespan"},
    ):
        await middleware(scope, None, None)

    paths = [(scope.get("path"), scope.get("raw_path")) for scope in seen]
    assert paths == [
        ("/users", b"/users"),
        ("/", b"/"),
        ("/users", b"/users"),
        (None, None),
    ], f"The middleware rewrote the scopes' paths to {paths}. Keep {WHERE}."
