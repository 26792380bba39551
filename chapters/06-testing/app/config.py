"""Settings: every knob of the service, read from the environment and `.env`, validated once."""

import json
from functools import lru_cache
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SECRET_KEY = "change-me"  # fine on a laptop, refused in production
MIN_SECRET_KEY_LENGTH = 32  # 256 bits of HS256 key material, written as text

# A list setting read as text, so that `a,b` works as well as JSON (`["a","b"]`).
CommaList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    """The service's configuration. Env names are the field names: `SECRET_KEY`, ..."""

    # The real environment wins over `.env`; unknown keys belong to other tools.
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    app_name: str = "users-service"
    environment: Literal["development", "test", "production"] = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)
    cors_origins: CommaList = ["http://localhost:3000"]
    allowed_hosts: CommaList = ["localhost", "127.0.0.1"]

    # PostgreSQL, through the asyncpg driver. The pool is per process: workers x pool size
    # must stay under the server's max_connections.
    database_url: str = "postgresql+asyncpg://workshop:workshop@127.0.0.1:5432/workshop"
    database_pool_size: int = Field(10, ge=1)  # connections kept open
    database_max_overflow: int = Field(10, ge=0)  # extra connections under load
    database_pool_timeout_seconds: float = Field(5.0, gt=0)  # wait for a free connection
    database_pool_recycle_seconds: int = Field(1800, ge=60)  # proxies drop idle connections
    database_connect_timeout_seconds: float = Field(5.0, gt=0)  # give up on a dead server
    log_sql_queries: bool = False  # every statement and its duration, at INFO
    slow_query_threshold_ms: float = Field(200.0, gt=0)  # slower ones are always a WARNING

    # Redis. Every key the service writes starts with the prefix, so services and test runs
    # sharing one Redis never meet.
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_key_prefix: str = "users-service:"
    redis_socket_timeout_seconds: float = Field(0.5, gt=0)  # slower counts as Redis down
    user_cache_ttl_seconds: int = Field(300, ge=1)
    user_cache_ttl_jitter_seconds: int = Field(30, ge=0)  # so entries do not all expire at once

    # Authentication: token lifetimes, argon2's cost (tests lower it to stay fast) and the
    # login rate limit. `secret_key` above signs the tokens.
    access_token_ttl_seconds: int = Field(15 * 60, ge=1)
    refresh_token_ttl_seconds: int = Field(14 * 24 * 3600, ge=1)
    password_hash_time_cost: int = Field(3, ge=1)  # iterations
    password_hash_memory_cost_kib: int = Field(65536, ge=8)
    password_hash_parallelism: int = Field(4, ge=1)  # lanes
    login_rate_limit: int = Field(10, ge=1)  # attempts per client IP per window
    login_rate_limit_window_seconds: int = Field(60, ge=1)

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
    def refuse_unsafe_production_values(self) -> Self:
        if self.environment != "production":
            return self
        secret = self.secret_key.get_secret_value()
        if secret == DEFAULT_SECRET_KEY or len(secret) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                f"SECRET_KEY must be set to a random value of at least {MIN_SECRET_KEY_LENGTH} "
                "characters in production (python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    """The settings from the environment, read once per process."""
    return Settings()
