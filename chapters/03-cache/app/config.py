"""Settings: every knob of the service, read from the environment and `.env`, validated once."""

import json
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SECRET_KEY = "change-me"  # fine on a laptop, refused in production
MIN_SECRET_KEY_LENGTH = 32  # 256 bits of HS256 key material, written as text


# A list setting accepts JSON (`["a","b"]`) or, easier to type, a comma-separated value (`a,b`).
CommaList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    """The service's configuration. Env names are the field names: `DATABASE_URL`, ..."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # --- the service ---
    app_name: str = Field("users-service", description="Name in logs, metrics and the docs.")
    environment: Literal["development", "test", "production"] = Field(
        "development", description="production turns on the strict checks below."
    )
    api_docs_enabled: bool | None = Field(
        None,
        description="Serve /docs, /redoc and /openapi.json. Unset: on, except in production.",
    )

    # --- PostgreSQL ---
    database_url: str = Field(
        "postgresql+asyncpg://workshop:workshop@127.0.0.1:5432/workshop",
        description="SQLAlchemy URL of PostgreSQL, with the asyncpg driver.",
    )
    database_pool_size: int = Field(10, ge=1, description="Connections kept open per process.")
    database_max_overflow: int = Field(10, ge=0, description="Extra connections under load.")
    database_pool_timeout_seconds: float = Field(
        5.0, gt=0, description="How long a request waits for a free connection before failing."
    )
    database_pool_recycle_seconds: int = Field(
        1800, ge=60, description="Replace connections older than this (proxies drop idle ones)."
    )
    database_connect_timeout_seconds: float = Field(
        5.0, gt=0, description="Give up opening a PostgreSQL connection after this long."
    )
    # --- Redis ---
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="URL of Redis.")
    redis_key_prefix: str = Field(
        "users-service:", description="Every key the service writes starts with this."
    )
    redis_socket_timeout_seconds: float = Field(
        0.5, gt=0, description="A Redis call slower than this counts as Redis being down."
    )
    redis_max_connections: int = Field(64, ge=1, description="Redis connections per process.")

    # --- cache ---
    cache_enabled: bool = Field(True, description="Cache user reads in Redis (cache-aside).")
    user_cache_ttl_seconds: int = Field(300, ge=1, description="How long a cached user lives.")
    user_cache_ttl_jitter_seconds: int = Field(
        30, ge=0, description="Random extra seconds, so entries do not all expire at once."
    )

    # --- authentication ---
    secret_key: SecretStr = Field(
        SecretStr(DEFAULT_SECRET_KEY), description="HS256 signing key of the JWTs (>= 32 chars)."
    )
    # --- HTTP ---
    cors_origins: CommaList = Field(
        ["http://localhost:3000"], description="Origins a browser may call from."
    )
    cors_allow_credentials: bool = Field(True, description="Let browsers send cookies and auth.")
    allowed_hosts: CommaList = Field(
        ["localhost", "127.0.0.1"], description="Host headers served; `*` serves any."
    )

    @field_validator("cors_origins", "allowed_hosts", mode="before")
    @classmethod
    def split_comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [item.strip() for item in text.split(",") if item.strip()]
        return value

    @model_validator(mode="after")
    def refuse_unsafe_production_values(self) -> "Settings":
        if self.environment != "production":
            return self
        secret = self.secret_key.get_secret_value()
        if secret == DEFAULT_SECRET_KEY or len(secret) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                f"SECRET_KEY must be set to a random value of at least {MIN_SECRET_KEY_LENGTH} "
                "characters in production (python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')"
            )
        if "*" in self.cors_origins and self.cors_allow_credentials:
            raise ValueError(
                "CORS_ORIGINS='*' with CORS_ALLOW_CREDENTIALS=true would let any site act as "
                "the user: list the origins in production"
            )
        return self

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def serves_api_docs(self) -> bool:
        if self.api_docs_enabled is None:
            return not self.is_production
        return self.api_docs_enabled


@lru_cache
def get_settings() -> Settings:
    """The settings from the environment, read once per process."""
    return Settings()
