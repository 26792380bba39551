"""The application factory: `uvicorn app.main:create_app --factory` builds the app at start-up."""

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.trustedhost import TrustedHostMiddleware

from app import health
from app.config import Settings, get_settings
from app.middleware import ProcessTimeMiddleware


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service from its settings; tests pass their own, servers read the environment."""
    settings = settings or get_settings()
    app = FastAPI(title=settings.app_name)
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
    return app
