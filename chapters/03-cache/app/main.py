"""The application factory and its lifespan.

`uvicorn app.main:create_app --factory` calls `create_app()` in each worker. Nothing
connects at import time: the lifespan opens the pools when the server starts and closes
them when it stops, after uvicorn has let in-flight requests finish.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from app import health
from app.config import Settings, get_settings
from app.database import create_engine_from
from app.middleware import ProcessTimeMiddleware, TrailingSlashMiddleware
from app.resources import Resources
from app.single_flight import SingleFlight
from app.users.router import router as users_router

logger = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    engine = create_engine_from(settings)
    # TODO(cache.client): the process needs one Redis client (create_redis,
    # app/redis_client.py), made here when the server starts, not at import (like the
    # engine: each process and each test has its own event loop), shared by every request,
    # and closed when the server stops so its connections do not linger. It takes the place
    # of the placeholder below.
    app.state.resources = Resources(
        settings=settings,
        engine=engine,
        # expire_on_commit=False: a committed object keeps its values, so a route can still
        # read them without a lazy load (which async SQLAlchemy cannot do implicitly).
        sessionmaker=async_sessionmaker(engine, expire_on_commit=False),
        redis=None,  # a placeholder: the cache cannot reach Redis until you make the client
        # One per process: in-flight loads are shared between requests (app/single_flight.py).
        flights=SingleFlight(),
    )
    try:
        logger.info("started", extra={"environment": settings.environment})
        yield
    finally:
        await engine.dispose()
        logger.info("stopped")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service. Tests pass their own settings; servers read the environment."""
    settings = settings or get_settings()
    about = {
        "title": "Users service",
        "version": "1.0.0",
        "description": "Users and authentication on PostgreSQL and Redis.",
        "lifespan": lifespan,
    }
    if settings.serves_api_docs:
        # FastAPIOffline serves Swagger UI and ReDoc from the package: /docs works offline.
        app: FastAPI = FastAPIOffline(**about)
    else:  # production by default: the API's map is not published
        app = FastAPI(**about, openapi_url=None, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.include_router(users_router)
    app.include_router(health.router)

    # Added innermost first: a request meets ProcessTimeMiddleware first, the router last.
    app.add_middleware(TrailingSlashMiddleware)
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
