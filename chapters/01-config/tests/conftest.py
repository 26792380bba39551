"""Fixtures of chapter 01: settings made for the tests, the app under its lifespan, a client."""

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.config import Settings, get_settings
from app.main import create_app

SETTING_NAMES = (
    "APP_NAME",
    "ENVIRONMENT",
    "API_DOCS_ENABLED",
    "SECRET_KEY",
    "CORS_ORIGINS",
    "CORS_ALLOW_CREDENTIALS",
    "ALLOWED_HOSTS",
)
# Long and random enough for any secret guard, so no test depends on config.secret_guard.
TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Your shell's variables and your own `.env` never leak into a test."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # `.env` is read from the working directory
    get_settings.cache_clear()


@pytest.fixture
def settings() -> Settings:
    return Settings(
        _env_file=None,
        environment="test",
        secret_key=TEST_SECRET_KEY,
        cors_origins=["http://frontend.test"],
        allowed_hosts=["test", "api.test"],
    )


@pytest.fixture
async def app(settings: Settings):
    app = create_app(settings)
    # httpx's ASGITransport does not run the lifespan; LifespanManager does.
    async with LifespanManager(app) as manager:
        yield manager.app


@pytest.fixture
async def client(app):
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        yield client
