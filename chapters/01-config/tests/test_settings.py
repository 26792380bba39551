"""Exercise config.settings: typed settings from the environment and `.env`."""

import pytest
from pydantic import SecretStr, ValidationError

from app.config import Settings

pytestmark = pytest.mark.exercise("config.settings")

WHERE = "Edit Settings in app/config.py (exercise config.settings)."


def settings_from_environment(monkeypatch: pytest.MonkeyPatch, **variables: str) -> Settings:
    """Settings() with these environment variables set, failing readably if it cannot parse."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    try:
        return Settings()
    except Exception as error:  # pydantic-settings raises SettingsError for undecodable values
        pytest.fail(f"Settings() could not read {variables}: {error}. {WHERE}")


def test_the_secret_key_is_a_secret_str_that_repr_hides(monkeypatch):
    settings = settings_from_environment(monkeypatch, SECRET_KEY="a-private-value-0123456789")

    assert isinstance(settings.secret_key, SecretStr), (
        f"secret_key should be a pydantic SecretStr, so it never shows in logs or tracebacks; "
        f"it is a {type(settings.secret_key).__name__}. {WHERE}"
    )
    assert "a-private-value" not in repr(settings), f"repr(settings) shows the secret. {WHERE}"
    assert settings.secret_key.get_secret_value() == "a-private-value-0123456789"


def test_list_settings_accept_comma_separated_and_json_values(monkeypatch):
    settings = settings_from_environment(
        monkeypatch,
        CORS_ORIGINS="http://a.test, http://b.test",
        ALLOWED_HOSTS='["api.test", "localhost"]',
    )

    assert settings.cors_origins == ["http://a.test", "http://b.test"], (
        f"CORS_ORIGINS='http://a.test, http://b.test' should give two origins; "
        f"got {settings.cors_origins!r}. {WHERE}"
    )
    assert settings.allowed_hosts == ["api.test", "localhost"], (
        f"ALLOWED_HOSTS as JSON should still work; got {settings.allowed_hosts!r}. {WHERE}"
    )


def test_a_dotenv_file_is_read_and_the_environment_wins_over_it(monkeypatch, tmp_path):
    (tmp_path / ".env").write_text("APP_NAME=from-dotenv\nSECRET_KEY=dotenv-secret\n")

    settings = settings_from_environment(monkeypatch, SECRET_KEY="environment-secret")

    assert settings.app_name == "from-dotenv", (
        "Settings() should read a `.env` file in the working directory (APP_NAME=from-dotenv "
        f"there); app_name is {settings.app_name!r}. Set env_file in model_config. {WHERE}"
    )
    secret = settings.secret_key
    secret = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    assert secret == "environment-secret", (
        "A real environment variable should win over the same name in `.env`; got the `.env` "
        f"value. Read `.env` through model_config's env_file, not by loading it yourself. {WHERE}"
    )


def test_an_unknown_environment_is_refused(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "staging")

    refused: ValidationError | None = None
    try:
        Settings()
    except ValidationError as error:
        refused = error

    assert refused is not None, (
        "ENVIRONMENT=staging was accepted: only development, test and production exist, "
        f"and a typo must stop the service at start-up. Type the field as a Literal. {WHERE}"
    )
    assert "environment" in str(refused), (
        f"The error should name the field; type `environment` itself as a Literal rather than "
        f"checking it elsewhere. Got: {refused}. {WHERE}"
    )
