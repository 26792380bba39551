"""Exercise config.secret_guard: production refuses unsafe settings; elsewhere all is fine."""

import inspect
import re
import secrets

import pytest
from pydantic import ValidationError

from app import config
from app.config import DEFAULT_SECRET_KEY, MIN_SECRET_KEY_LENGTH, Settings

pytestmark = pytest.mark.exercise("config.secret_guard")

WHERE = "Add a model validator to Settings in app/config.py (exercise config.secret_guard)."
LONG_SECRET = secrets.token_urlsafe(48)


def refusal(**values: object) -> ValidationError | None:
    """The ValidationError Settings raises for these values, or None when it accepts them."""
    try:
        Settings(_env_file=None, **values)
    except ValidationError as error:
        return error
    except Exception as error:
        hint = (
            " secret_key is still a plain str: finish exercise config.settings first (a SecretStr)."
            if "get_secret_value" in str(error)
            else " Raise ValueError in a validator: pydantic turns it into a ValidationError."
        )
        pytest.fail(
            f"Settings({values}) raised {type(error).__name__}: {error}, where a refusal is a "
            f"ValidationError.{hint} {WHERE}"
        )
    return None


def names(error: ValidationError, setting: str) -> bool:
    return setting.lower() in str(error).lower()


def said(error: ValidationError | None) -> str:
    """What the refusal says, quoted and set apart from the advice that follows: pydantic's
    own text ends with a link, which would otherwise run into the next sentence."""
    if error is None:
        return "(nothing)"
    return "; ".join(f'"{item["msg"]}"' for item in error.errors())


def test_production_refuses_the_default_secret():
    error = refusal(environment="production")

    assert error is not None, (
        f"With ENVIRONMENT=production and no SECRET_KEY (so the default {DEFAULT_SECRET_KEY!r})"
        f" Settings() should raise a ValidationError: the default is public, anyone could sign "
        f"tokens. (If your validator compares the secret: a SecretStr never equals a str, "
        f"compare its get_secret_value().) {WHERE}"
    )
    assert names(error, "SECRET_KEY"), (
        f"The refusal should name SECRET_KEY, so whoever deploys knows what to set; it says "
        f"{said(error)}. {WHERE}"
    )
    assert refusal(environment="development") is None, (
        "Development must keep working with the default secret: refuse it in production only. "
        f"{WHERE}"
    )


def source_of_settings() -> str:
    try:
        return inspect.getsource(Settings)
    except (OSError, TypeError):
        return ""


def compares_the_secretstr_itself(source: str) -> bool:
    """Whether the class compares `secret_key` (a SecretStr) itself with `==` or `!=`."""
    compared = r"secret_key\s*(?:==|!=)|(?:==|!=)\s*(?:self|cls|\w+)\.secret_key\b(?!\.)"
    return re.search(compared, source) is not None


def test_the_default_secret_is_refused_for_being_the_default(monkeypatch):
    # A default as long as a real key: only the "is it the default?" check can refuse it now.
    long_default = "change-me-" + "x" * MIN_SECRET_KEY_LENGTH
    monkeypatch.setattr(config, "DEFAULT_SECRET_KEY", long_default)

    error = refusal(environment="production", secret_key=long_default)

    source = source_of_settings()
    if compares_the_secretstr_itself(source):
        cause = (
            "Your validator compares self.secret_key, a SecretStr, with `==` to a str: a "
            "SecretStr never equals a str, so that comparison is always False. Compare "
            "self.secret_key.get_secret_value() instead."
        )
    elif repr(DEFAULT_SECRET_KEY)[1:-1] in source:
        cause = (
            f"Your validator compares with the text {DEFAULT_SECRET_KEY!r} written out: compare "
            "with the constant DEFAULT_SECRET_KEY, so the check follows the default wherever "
            "it is changed."
        )
    else:
        cause = (
            "Compare the secret's text, self.secret_key.get_secret_value() (a SecretStr never "
            "equals a str), with DEFAULT_SECRET_KEY itself rather than a copy of its text."
        )
    assert error is not None, (
        "With ENVIRONMENT=production and SECRET_KEY equal to DEFAULT_SECRET_KEY, Settings() "
        "should refuse to start even when that default is long enough: here it was made "
        f"{len(long_default)} characters long, and it was accepted, so only your length check "
        f"ever refused the default. {cause} {WHERE}"
    )


def test_production_refuses_a_short_secret_and_accepts_a_long_random_one():
    short_secret = "s" * (MIN_SECRET_KEY_LENGTH - 1)

    short_refused = refusal(environment="production", secret_key=short_secret)
    long_refused = refusal(environment="production", secret_key=LONG_SECRET)

    assert short_refused is not None, (
        f"A SECRET_KEY of {len(short_secret)} characters should be refused in production "
        f"(MIN_SECRET_KEY_LENGTH is {MIN_SECRET_KEY_LENGTH}): a short key can be guessed. "
        f"{WHERE}"
    )
    assert long_refused is None, (
        f"A long random SECRET_KEY should be accepted in production: refuse only the default "
        f"and secrets shorter than MIN_SECRET_KEY_LENGTH. It was refused with "
        f"{said(long_refused)}. {WHERE}"
    )
    exactly_long_enough = secrets.token_urlsafe(64)[:MIN_SECRET_KEY_LENGTH]
    boundary_refused = refusal(environment="production", secret_key=exactly_long_enough)
    assert boundary_refused is None, (
        f"A random SECRET_KEY of exactly MIN_SECRET_KEY_LENGTH ({MIN_SECRET_KEY_LENGTH}) "
        f"characters is long enough, and was refused: the length check is off by one. Refuse "
        f"a secret only when it has fewer than MIN_SECRET_KEY_LENGTH characters. {WHERE}"
    )
    assert refusal(environment="test", secret_key="short") is None, (
        "Tests and laptops may use a short secret: refuse it in production only. " + WHERE
    )


def test_production_refuses_any_origin_with_credentials():
    production = {"environment": "production", "secret_key": LONG_SECRET}

    wildcard = refusal(**production, cors_origins=["*"], cors_allow_credentials=True)
    without_credentials = refusal(**production, cors_origins=["*"], cors_allow_credentials=False)
    listed = refusal(**production, cors_origins=["https://app.example.com"])

    assert wildcard is not None, (
        "With ENVIRONMENT=production, CORS_ORIGINS=* and CORS_ALLOW_CREDENTIALS=true, "
        "Settings() should raise a ValidationError: any website could then send the user's "
        f"credentials to this API and read the answers. {WHERE}"
    )
    among_others = refusal(
        **production,
        cors_origins=["https://app.example.com", "*"],
        cors_allow_credentials=True,
    )
    assert among_others is not None, (
        "With ENVIRONMENT=production, CORS_ORIGINS=https://app.example.com,* and credentials, "
        "Settings() accepted the settings: `*` among other origins still lets every website "
        "in. Refuse whenever `*` is one of the origins, not only when it is the whole list. "
        f"{WHERE}"
    )
    assert names(wildcard, "CORS_ORIGINS"), (
        f"The refusal should name CORS_ORIGINS (or say to list the origins); it says "
        f"{said(wildcard)}. {WHERE}"
    )
    assert (without_credentials, listed) == (None, None), (
        "Refuse `*` only together with credentials: CORS_ORIGINS=* without credentials (a "
        "public API) and a list of origins with credentials are both fine in production; "
        f"they were refused with {said(without_credentials or listed)}. {WHERE}"
    )
    assert refusal(environment="development", cors_origins=["*"]) is None, (
        "Development may allow every origin with credentials: refuse it in production only. "
        + WHERE
    )
