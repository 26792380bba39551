"""Exercise config.settings: typed settings from the environment and `.env`."""

import pytest
from pydantic import SecretStr, ValidationError

from app.config import Settings

pytestmark = pytest.mark.exercise("config.settings")

WHERE = "Edit Settings in app/config.py (exercise config.settings)."
# Every test here sets a long random-looking secret and development: values that no secret
# guard refuses, so these tests judge how the settings are read and nothing else.
SAFE_SECRET = "a-private-value-0123456789-abcdefghijklmnop"


def refused_as_a_whole(error: ValidationError) -> bool:
    """True when only a model validator (no field) refused: the secret guard, not a field."""
    return all(not detail["loc"] for detail in error.errors())


def settings_from_environment(monkeypatch: pytest.MonkeyPatch, **variables: str) -> Settings:
    """Settings() with these environment variables set, failing readably if it cannot parse."""
    variables = {"ENVIRONMENT": "development", "SECRET_KEY": SAFE_SECRET} | variables
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    try:
        return Settings()
    except ValidationError as error:
        if refused_as_a_whole(error):
            pytest.fail(
                f"Settings() refused {variables} as a whole, in development: "
                f"{error.errors()[0]['msg']}. That is your model validator (exercise "
                "config.secret_guard) refusing values outside production; it must refuse "
                "only when ENVIRONMENT=production. The reading of the settings may be right."
            )
        unknown = [
            ".".join(map(str, d["loc"])) for d in error.errors() if d["type"] == "extra_forbidden"
        ]
        if unknown:
            pytest.fail(
                f"Settings() refused the keys {unknown} of the `.env` file: they belong to "
                "other tools that share the file. Ignore keys the class does not know instead "
                f"of refusing them (model_config's `extra`). {WHERE}"
            )
        pytest.fail(f"Settings() could not read {variables}: {error}. {WHERE}")
    except Exception as error:  # pydantic-settings raises SettingsError for undecodable values
        why = (
            " pydantic-settings decodes a list setting as JSON before any validator sees it, "
            "and `a, b` is not JSON: ask it to hand the raw text to a validator of yours."
            if "error parsing value" in str(error)
            else ""
        )
        pytest.fail(
            f"Settings() could not read {variables}: {type(error).__name__}: {error}.{why} {WHERE}"
        )


def test_the_secret_key_is_a_secret_str_that_repr_hides(monkeypatch):
    settings = settings_from_environment(monkeypatch, SECRET_KEY=SAFE_SECRET)

    assert isinstance(settings.secret_key, SecretStr), (
        f"secret_key should be a pydantic SecretStr, so it never shows in logs or tracebacks; "
        f"it is a {type(settings.secret_key).__name__}. {WHERE}"
    )
    assert "a-private-value" not in repr(settings), (
        f"repr(settings) shows the secret: {repr(settings)[:120]}... {WHERE}"
    )
    assert settings.secret_key.get_secret_value() == SAFE_SECRET, (
        "settings.secret_key.get_secret_value() should give back the SECRET_KEY that was set; "
        f"keep the value itself, only hide it. {WHERE}"
    )


def test_list_settings_accept_comma_separated_and_json_values(monkeypatch):
    settings = settings_from_environment(
        monkeypatch,
        CORS_ORIGINS="http://a.test, http://b.test",
        ALLOWED_HOSTS='["api.test", "localhost"]',
    )

    assert settings.cors_origins == ["http://a.test", "http://b.test"], (
        f"CORS_ORIGINS='http://a.test, http://b.test' should give two origins, without the "
        f"spaces; got {settings.cors_origins!r}. {WHERE}"
    )
    assert settings.allowed_hosts == ["api.test", "localhost"], (
        f"ALLOWED_HOSTS as JSON should still work; got {settings.allowed_hosts!r}. {WHERE}"
    )
    single = settings_from_environment(monkeypatch, ALLOWED_HOSTS="api.test")
    assert single.allowed_hosts == ["api.test"], (
        f"ALLOWED_HOSTS='api.test' (one host, no comma) should give ['api.test']; got "
        f"{single.allowed_hosts!r}. {WHERE}"
    )


def test_a_dotenv_file_is_read_and_the_environment_wins_over_it(monkeypatch, tmp_path):
    (tmp_path / ".env").write_text(
        "APP_NAME=from-dotenv\n"
        "SECRET_KEY=dotenv-secret-0123456789-0123456789\n"
        "SOME_OTHER_TOOL=its-own-setting\n"
    )

    settings = settings_from_environment(monkeypatch, SECRET_KEY=SAFE_SECRET)

    assert settings.app_name == "from-dotenv", (
        "Settings() should read a `.env` file in the working directory (APP_NAME=from-dotenv "
        f"there); app_name is {settings.app_name!r}. Tell the class where its env file is, in "
        f"its model_config. {WHERE}"
    )
    secret = settings.secret_key
    secret = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    assert secret == SAFE_SECRET, (
        "A real environment variable should win over the same name in `.env`; got the `.env` "
        "value. Let pydantic-settings read the file (model_config) rather than loading it "
        f"yourself. {WHERE}"
    )


def test_an_unknown_environment_is_refused(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "staging")
    monkeypatch.setenv("SECRET_KEY", SAFE_SECRET)

    refused: ValidationError | None = None
    try:
        Settings()
    except ValidationError as error:
        refused = error

    assert refused is not None, (
        "ENVIRONMENT=staging was accepted: only development, test and production exist, "
        f"and a typo must stop the service at start-up. Let the field's type say so. {WHERE}"
    )
    assert any(detail["loc"] == ("environment",) for detail in refused.errors()), (
        f"The error should name the field `environment`: give the field itself a type that "
        f"allows only the three names, rather than checking it elsewhere. Got: {refused}. "
        f"{WHERE}"
    )
