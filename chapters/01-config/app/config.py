"""Settings: every knob of the service, read from the environment and `.env`, validated once."""

from functools import lru_cache

from pydantic_settings import BaseSettings

DEFAULT_SECRET_KEY = "change-me"  # fine on a laptop, refused in production
MIN_SECRET_KEY_LENGTH = 32  # 256 bits of HS256 key material, written as text


class Settings(BaseSettings):
    """The service's configuration. Env names are the field names: `SECRET_KEY`, ..."""

    # TODO(config.settings): read `.env` too, accept only the three environments, keep the
    # secret in a SecretStr, and let the two lists come from `a,b` as well as from JSON.
    app_name: str = "users-service"
    environment: str = "development"
    secret_key: str = DEFAULT_SECRET_KEY
    cors_origins: list[str] = ["http://localhost:3000"]
    allowed_hosts: list[str] = ["localhost", "127.0.0.1"]

    # TODO(config.secret_guard): in production, refuse DEFAULT_SECRET_KEY and any secret
    # shorter than MIN_SECRET_KEY_LENGTH, with a message that names SECRET_KEY.


@lru_cache
def get_settings() -> Settings:
    """The settings from the environment, read once per process."""
    return Settings()
