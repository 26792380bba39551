"""The application factory and its lifespan.

`uvicorn app.main:create_app --factory` calls `create_app()` in each worker. Nothing
connects at import time: the lifespan opens the pools when the server starts and closes
them when it stops, after uvicorn has let in-flight requests finish.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from app import health
from app.auth.router import router as auth_router
from app.config import Settings, get_settings
from app.database import create_engine_from
from app.logs import configure_logging
from app.middleware import (
    AccessLogMiddleware,
    PlainErrorsAsProblemsMiddleware,
    ProcessTimeMiddleware,
    RequestIdMiddleware,
    RequestSizeLimitMiddleware,
    TrailingSlashMiddleware,
)
from app.problems import document_problems, install_problem_handlers
from app.query_log import install_query_logging
from app.rate_limit import RateLimiter
from app.redis_client import create_redis
from app.resources import Resources
from app.security.logins import LoginRegistry
from app.security.passwords import PasswordHasher
from app.single_flight import SingleFlight
from app.users.router import router as users_router

logger = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    engine = create_engine_from(settings)
    install_query_logging(engine, settings)
    redis = create_redis(settings)
    password_hasher = PasswordHasher(settings)
    app.state.resources = Resources(
        settings=settings,
        engine=engine,
        # expire_on_commit=False: a committed object keeps its values, so a route can still
        # read them without a lazy load (which async SQLAlchemy cannot do implicitly).
        sessionmaker=async_sessionmaker(engine, expire_on_commit=False),
        redis=redis,
        flights=SingleFlight(),
        password_hasher=password_hasher,
        rate_limiter=RateLimiter(redis, settings),
        logins=LoginRegistry(redis, settings),
    )
    try:
        await password_hasher.prepare()
        if settings.uses_default_secret_key:
            logger.warning(
                "SECRET_KEY is the public default: anyone can sign tokens this service "
                "accepts. Set SECRET_KEY to a random value before anyone else can reach it."
            )
        logger.info("started", extra={"environment": settings.environment})
        yield
    finally:
        await redis.aclose()
        await engine.dispose()
        logger.info("stopped")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service. Tests pass their own settings; servers read the environment."""
    settings = settings or get_settings()
    configure_logging(settings)
    about: dict[str, Any] = {
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
    install_problem_handlers(app)
    app.include_router(users_router)
    app.include_router(auth_router)
    app.include_router(health.router)
    document_problems(app)

    # Added innermost first: a request meets RequestIdMiddleware first, the router last.
    app.add_middleware(TrailingSlashMiddleware)
    app.add_middleware(
        RequestSizeLimitMiddleware,
        max_body_bytes=settings.max_request_body_bytes,
        max_header_bytes=settings.max_request_header_bytes,
    )
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
    # Around the host check and CORS: their plain-text refusals become problem documents.
    app.add_middleware(PlainErrorsAsProblemsMiddleware)
    app.add_middleware(ProcessTimeMiddleware)
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(RequestIdMiddleware)
    return app
