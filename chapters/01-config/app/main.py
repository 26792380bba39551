"""The application factory: `uvicorn app.main:create_app --factory` builds the app at start-up."""

from fastapi import FastAPI

from app import health
from app.config import Settings, get_settings
from app.middleware import ProcessTimeMiddleware


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service from its settings; tests pass their own, servers read the environment."""
    settings = settings or get_settings()
    app = FastAPI(title=settings.app_name)
    # TODO(config.factory): keep the settings on app.state, and add CORSMiddleware and
    # TrustedHostMiddleware configured from them (before the timing middleware below).

    # The middleware added last runs first.
    app.add_middleware(ProcessTimeMiddleware)

    app.include_router(health.router)
    return app
