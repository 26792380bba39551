"""Exercise config.secret_guard: production refuses an unsafe secret."""

import secrets

import pytest
from pydantic import ValidationError

from app.config import MIN_SECRET_KEY_LENGTH, Settings

pytestmark = pytest.mark.exercise("config.secret_guard")

WHERE = "Add a model_validator to Settings in app/config.py (exercise config.secret_guard)."


def refusal(**values: str) -> ValidationError | None:
    """The ValidationError Settings raises for these values, or None when it accepts them."""
    try:
        Settings(_env_file=None, **values)
    except ValidationError as error:
        return error
    return None


def test_production_refuses_the_default_secret():
    error = refusal(environment="production")

    assert error is not None, (
        "With ENVIRONMENT=production and no SECRET_KEY, Settings() should raise a "
        f"ValidationError: the default secret is public, anyone could sign tokens. {WHERE}"
    )
    assert "secret_key" in str(error).lower(), (
        f"The error should name SECRET_KEY, so whoever deploys knows what to set: raise "
        f'ValueError("SECRET_KEY must be ..."); got: {error}. {WHERE}'
    )
    assert refusal(environment="development") is None, (
        "Development must keep working with the default secret: refuse it in production only "
        f'(check self.environment == "production" first). {WHERE}'
    )


def test_production_refuses_a_short_secret_and_accepts_a_long_random_one():
    short_secret = "s" * (MIN_SECRET_KEY_LENGTH - 1)

    assert refusal(environment="production", secret_key=short_secret) is not None, (
        f"A SECRET_KEY of {len(short_secret)} characters should be refused in production "
        f"(MIN_SECRET_KEY_LENGTH is {MIN_SECRET_KEY_LENGTH}). {WHERE}"
    )
    assert refusal(environment="production", secret_key=secrets.token_urlsafe(48)) is None, (
        "A long random SECRET_KEY should be accepted in production: refuse only the default "
        f"and secrets shorter than MIN_SECRET_KEY_LENGTH, and return self. {WHERE}"
    )
