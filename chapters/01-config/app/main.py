"""The application factory: `uvicorn app.main:create_app --factory` builds the app at start-up.

Nothing happens at import time: each server process (and each test) calls `create_app`
and gets an app built from its own settings.
"""

from fastapi import FastAPI

from app import health
from app.config import Settings, get_settings
from app.middleware import ProcessTimeMiddleware


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service. Tests pass their own settings; servers read the environment."""
    settings = settings or get_settings()
    about = {
        "title": "Users service",
        "version": "1.0.0",
        "description": "Users and authentication on PostgreSQL and Redis.",
    }
    # TODO(config.factory): this is the one place where settings become behaviour, and today
    # it ignores them. Build the app so that:
    # - the settings it was given stay reachable from the app (routes and tests need the same
    #   ones, never a second copy read from the environment);
    # - the API docs (/docs, /redoc, /openapi.json) are served only when
    #   `settings.serves_api_docs` says so (a production API does not publish its map), and
    #   when they are, their pages load from this service, not from a CDN (the package
    #   fastapi-offline carries them), so they work offline and behind a firewall;
    # - browsers may call the API only from `settings.cors_origins`, with the methods and
    #   request headers it uses (GET, POST, PATCH, DELETE; Authorization, Content-Type,
    #   X-Request-ID), sending credentials only when `settings.cors_allow_credentials` says
    #   so; and their scripts may read the headers this service adds (X-Request-ID,
    #   X-Process-Time, Retry-After, Location);
    # - a request whose Host header is not in `settings.allowed_hosts` is refused, unless
    #   that list holds `*`.
    # Middleware added later wraps what was added before: keep ProcessTimeMiddleware last,
    # so it times every request, the refused ones included.
    app = FastAPI(**about)
    app.include_router(health.router)

    app.add_middleware(ProcessTimeMiddleware)
    return app
