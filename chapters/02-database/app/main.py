"""The application factory: `uvicorn app.main:create_app --factory` builds the app at start-up."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.trustedhost import TrustedHostMiddleware

from app import health
from app.config import Settings, get_settings
from app.middleware import ProcessTimeMiddleware
from app.users.router import router as users_router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the connection pool when the server starts and close it when it stops."""
    # TODO(database.engine): create the engine with create_engine_from(app.state.settings) and
    # keep it on app.state.engine; dispose it in the `finally` below, so its connections close.
    # TODO(database.session): keep an async_sessionmaker bound to the engine on
    # app.state.sessionmaker, with expire_on_commit=False.
    try:
        yield
    finally:
        pass


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
