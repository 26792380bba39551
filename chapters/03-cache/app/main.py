"""The application factory: `uvicorn app.main:create_app --factory` builds the app at start-up."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.trustedhost import TrustedHostMiddleware
from sqlalchemy.ext.asyncio import async_sessionmaker

from app import health
from app.config import Settings, get_settings
from app.database import create_engine_from
from app.middleware import ProcessTimeMiddleware
from app.users.cache import UserCache
from app.users.router import router as users_router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the pools when the server starts and close them when it stops."""
    settings: Settings = app.state.settings
    engine = create_engine_from(settings)
    app.state.engine = engine
    # expire_on_commit=False: a committed object keeps its values, so a route can still
    # read them without a lazy load (which async SQLAlchemy cannot do implicitly).
    app.state.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    # TODO(cache.client): make the process's one Redis client with create_redis(settings),
    # keep it on app.state.redis, give it to the UserCache below instead of None, and close it
    # in the `finally` (await redis.aclose()).
    app.state.user_cache = UserCache(
        redis=None, sessionmaker=app.state.sessionmaker, settings=settings
    )
    try:
        yield
    finally:
        await engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service from its settings; tests pass their own, servers read the environment."""
    settings = settings or get_settings()
    app = FastAPI(title=settings.app_name, lifespan=lifespan)
    app.state.settings = settings

    # The middleware added last runs first: time everything, then refuse unknown hosts.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(ProcessTimeMiddleware)

    app.include_router(health.router)
    app.include_router(users_router)
    return app
