"""The application factory: `uvicorn app.main:create_app --factory` builds the app at start-up.

Nothing happens at import time: each server process (and each test) calls `create_app`
and gets an app built from its own settings.
"""

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

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
    if settings.serves_api_docs:
        # FastAPIOffline serves Swagger UI and ReDoc from the package: /docs works offline.
        app: FastAPI = FastAPIOffline(**about)
    else:  # production by default: the API's map is not published
        app = FastAPI(**about, openapi_url=None, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.include_router(health.router)

    # Added innermost first: a request meets ProcessTimeMiddleware first, the router last.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=settings.cors_allow_credentials,
        allow_methods=["GET", "POST", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        expose_headers=["X-Request-ID", "X-Process-Time", "Retry-After", "Location"],
    )
    if "*" not in settings.allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(ProcessTimeMiddleware)
    return app
