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
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Level of the JSON logs on stdout."
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
    log_sql_queries: bool = Field(False, description="Log every SQL statement and its duration.")
    slow_query_threshold_ms: float = Field(
        200.0, gt=0, description="Log a warning for any statement slower than this."
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
    access_token_ttl_seconds: int = Field(900, ge=1, description="Lifetime of an access token.")
    refresh_token_ttl_seconds: int = Field(
        14 * 24 * 3600, ge=1, description="Lifetime of a refresh token, and of an idle login."
    )
    password_hash_time_cost: int = Field(3, ge=1, description="argon2 iterations.")
    password_hash_memory_cost_kib: int = Field(65536, ge=8, description="argon2 memory in KiB.")
    # One lane: the same memory and passes cost an attacker as much as four lanes would, but
    # one hash then takes one core instead of every core the machine has.
    password_hash_parallelism: int = Field(1, ge=1, description="argon2 lanes (threads per hash).")

    # --- rate limits (fixed windows in Redis) ---
    rate_limit_enabled: bool = Field(True, description="Turn the Redis rate limiter on or off.")
    login_rate_limit: int = Field(10, ge=1, description="Login attempts per client IP per window.")
    login_rate_limit_window_seconds: int = Field(60, ge=1, description="Login window length.")
    account_login_failure_limit: int = Field(
        10, ge=1, description="Failed logins per account per window, from any address."
    )
    account_login_failure_window_seconds: int = Field(
        300,
        ge=1,
        description="Account failure window: the longest an attacker can lock the owner out.",
    )
    registration_rate_limit: int = Field(
        20, ge=1, description="Registrations per client IP per window."
    )
    registration_rate_limit_window_seconds: int = Field(
        3600, ge=1, description="Registration window length."
    )
    refresh_rate_limit: int = Field(
        30, ge=1, description="Token refreshes per client IP per window."
    )
    refresh_rate_limit_window_seconds: int = Field(60, ge=1, description="Refresh window length.")
    write_rate_limit: int = Field(60, ge=1, description="Writes per user per window.")
    write_rate_limit_window_seconds: int = Field(60, ge=1, description="Write window length.")

    # --- HTTP ---
    cors_origins: CommaList = Field(
        ["http://localhost:3000"], description="Origins a browser may call from."
    )
    cors_allow_credentials: bool = Field(True, description="Let browsers send cookies and auth.")
    allowed_hosts: CommaList = Field(
        ["localhost", "127.0.0.1"], description="Host headers served; `*` serves any."
    )
    max_request_body_bytes: int = Field(
        64 * 1024, ge=1024, description="Larger request bodies are refused with 413."
    )
    max_request_header_bytes: int = Field(
        16 * 1024,
        ge=1024,
        description="Larger request lines plus headers, in all, are refused with 431.",
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
    def uses_default_secret_key(self) -> bool:
        return self.secret_key.get_secret_value() == DEFAULT_SECRET_KEY

    @property
    def serves_api_docs(self) -> bool:
        if self.api_docs_enabled is None:
            return not self.is_production
        return self.api_docs_enabled


@lru_cache
def get_settings() -> Settings:
    """The settings from the environment, read once per process."""
    return Settings()
