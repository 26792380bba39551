"""Settings: every knob of the service, read from the environment and `.env`, validated once."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings

DEFAULT_SECRET_KEY = "change-me"  # fine on a laptop, refused in production
MIN_SECRET_KEY_LENGTH = 32  # 256 bits of HS256 key material, written as text


class Settings(BaseSettings):
    """The service's configuration. Env names are the field names: `DATABASE_URL`, ..."""

    # TODO(config.settings): today this class reads the process environment only and takes
    # three of its values too loosely. Make it:
    # - read a `.env` file in the working directory too, with the real environment winning
    #   over the file, and without choking on keys meant for other tools;
    # - refuse at start-up any environment other than the three named below, so a typo such
    #   as `prod` stops the service instead of silently skipping the production checks;
    # - hold the secret so that it never shows in `repr()`, logs or tracebacks, while the code
    #   that signs tokens can still read it on purpose;
    # - accept the two lists written `a,b` (what people type in a shell) as well as JSON
    #   (what tools write). pydantic-settings decodes list settings as JSON by default.

    # --- the service ---
    app_name: str = Field("users-service", description="Name in logs, metrics and the docs.")
    environment: str = Field(
        "development", description="production turns on the strict checks below."
    )
    api_docs_enabled: bool | None = Field(
        None,
        description="Serve /docs, /redoc and /openapi.json. Unset: on, except in production.",
    )

    # --- authentication ---
    secret_key: str = Field(
        DEFAULT_SECRET_KEY, description="HS256 signing key of the JWTs (>= 32 chars)."
    )
    # --- HTTP ---
    cors_origins: list[str] = Field(
        ["http://localhost:3000"], description="Origins a browser may call from."
    )
    cors_allow_credentials: bool = Field(True, description="Let browsers send cookies and auth.")
    allowed_hosts: list[str] = Field(
        ["localhost", "127.0.0.1"], description="Host headers served; `*` serves any."
    )

    # TODO(config.secret_guard): in production, refuse to start with settings that would be
    # unsafe there: the default secret or one shorter than MIN_SECRET_KEY_LENGTH (anyone who
    # read this repository, or can guess a short key, could sign tokens), and browsers of any
    # origin (`*`) allowed together with credentials (any website could act as a signed-in
    # user). Judge the settings as a whole, after each field is parsed, and name the setting
    # to fix in the message. Development and test accept all of it, so a laptop starts with
    # no configuration at all.

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
