"""The application factory: `uvicorn app.main:create_app --factory` builds the app at start-up."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.trustedhost import TrustedHostMiddleware
from sqlalchemy.ext.asyncio import async_sessionmaker

from app import health
from app.auth.passwords import PasswordHasher
from app.auth.router import router as auth_router
from app.config import Settings, get_settings
from app.database import create_engine_from
from app.logs import configure_logging
from app.middleware import ProcessTimeMiddleware, RequestIdMiddleware
from app.problems import install_problem_handlers
from app.query_log import install_query_logging
from app.rate_limit import RateLimiter
from app.redis_client import create_redis
from app.users.cache import UserCache
from app.users.router import router as users_router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the pools when the server starts and close them when it stops."""
    settings: Settings = app.state.settings
    engine = create_engine_from(settings)
    install_query_logging(engine, settings)
    app.state.engine = engine
    # expire_on_commit=False: a committed object keeps its values, so a route can still
    # read them without a lazy load (which async SQLAlchemy cannot do implicitly).
    app.state.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    redis = create_redis(settings)
    app.state.redis = redis
    app.state.user_cache = UserCache(
        redis=redis, sessionmaker=app.state.sessionmaker, settings=settings
    )
    app.state.password_hasher = PasswordHasher(settings)
    app.state.rate_limiter = RateLimiter(redis, settings)
    try:
        yield
    finally:
        await redis.aclose()
        await engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service from its settings; tests pass their own, servers read the environment."""
    settings = settings or get_settings()
    configure_logging(settings)
    app = FastAPI(title=settings.app_name, lifespan=lifespan)
    app.state.settings = settings
    install_problem_handlers(app)

    # The middleware added last runs first: name the request, time it, check its host.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(ProcessTimeMiddleware)
    # Outermost: every answer and every log line of the request carries its id.
    app.add_middleware(RequestIdMiddleware)

    app.include_router(health.router)
    app.include_router(users_router)
    app.include_router(auth_router)
    return app
