"""Settings: typed, read from the environment, strict in production."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import DEFAULT_SECRET_KEY, Settings

FINAL_DIR = Path(__file__).resolve().parents[1]
LONG_SECRET = "x" * 48


def test_env_names_are_the_field_names(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://u:p@db:5432/app")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/1")
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.setenv("REDIS_KEY_PREFIX", "svc:")

    settings = Settings(_env_file=None)

    assert settings.database_url == "postgresql+asyncpg://u:p@db:5432/app"
    assert settings.redis_url == "redis://cache:6379/1"
    assert settings.environment == "test"
    assert settings.redis_key_prefix == "svc:"


@pytest.mark.parametrize(
    "raw",
    ["https://a.example, https://b.example", '["https://a.example", "https://b.example"]'],
)
def test_list_settings_accept_commas_or_json(monkeypatch, raw):
    monkeypatch.setenv("CORS_ORIGINS", raw)
    monkeypatch.setenv("ALLOWED_HOSTS", "api.example,localhost")

    settings = Settings(_env_file=None)

    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.allowed_hosts == ["api.example", "localhost"]


def test_settings_are_read_from_a_dotenv_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("APP_NAME=from-dotenv\nLOGIN_RATE_LIMIT=3\n")

    settings = Settings(_env_file=env_file)

    assert settings.app_name == "from-dotenv"
    assert settings.login_rate_limit == 3


def test_wrong_types_are_refused(monkeypatch):
    monkeypatch.setenv("DATABASE_POOL_SIZE", "many")
    with pytest.raises(ValidationError, match="database_pool_size"):
        Settings(_env_file=None)


def test_secret_key_never_shows_in_repr_or_dump():
    settings = Settings(_env_file=None, secret_key=LONG_SECRET)

    assert LONG_SECRET not in repr(settings)
    assert LONG_SECRET not in str(settings.model_dump())
    assert settings.secret_key.get_secret_value() == LONG_SECRET


@pytest.mark.parametrize("secret", [DEFAULT_SECRET_KEY, "short-but-not-default"])
def test_production_refuses_a_default_or_short_secret(secret):
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(_env_file=None, environment="production", secret_key=secret)


def test_production_accepts_a_long_random_secret():
    settings = Settings(_env_file=None, environment="production", secret_key=LONG_SECRET)
    assert settings.is_production


def test_production_refuses_wildcard_cors_with_credentials():
    with pytest.raises(ValidationError, match="CORS_ORIGINS"):
        Settings(
            _env_file=None,
            environment="production",
            secret_key=LONG_SECRET,
            cors_origins=["*"],
            cors_allow_credentials=True,
        )
    # Without credentials a public API may allow every origin.
    Settings(
        _env_file=None,
        environment="production",
        secret_key=LONG_SECRET,
        cors_origins=["*"],
        cors_allow_credentials=False,
    )


def test_development_tolerates_the_default_secret():
    assert Settings(_env_file=None).secret_key.get_secret_value() == DEFAULT_SECRET_KEY


def test_env_example_documents_every_setting():
    text = (FINAL_DIR / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))

    missing = {name.upper() for name in Settings.model_fields} - documented

    assert not missing, f".env.example does not document: {sorted(missing)}"


def test_importing_and_building_the_app_connects_to_nothing():
    # Dead ports: any connection attempt at import or in create_app() would fail loudly.
    environment = {
        "DATABASE_URL": "postgresql+asyncpg://nobody:nothing@127.0.0.1:1/none",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "PATH": "/usr/bin:/bin",
    }
    code = "from app.main import create_app; app = create_app(); print(type(app).__name__)"

    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=FINAL_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("FastAPI")
